"""The harness itself: a server restarts on the same port and dataDir (the
helper persistence tests build on)."""

from rawzk import RawZk


def test_restart_same_port_and_datadir(impl, server_factory):
    srv = server_factory(impl, "restart")
    port, data_dir = srv.port, srv.data_dir
    c = RawZk("127.0.0.1", port).connect()
    c.create("/restart_probe")
    c.close_session()
    srv.restart()
    assert (srv.port, srv.data_dir) == (port, data_dir) and srv.alive()
    assert srv.four_letter("ruok") == "imok"
    c = RawZk("127.0.0.1", port).connect()
    assert c.session_id != 0
    c.close_session()
    assert srv.log_path.read_text(errors="replace").count("==== start #") == 2
    srv.stop()
    assert not srv.alive()
