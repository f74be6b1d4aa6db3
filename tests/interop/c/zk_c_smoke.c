/*
 * zk_c_smoke: Debian's C client (libzookeeper_mt) against a server.
 *
 * Usage: zk_c_smoke HOST:PORT BASEPATH
 *
 * Creates BASEPATH, reads it back, sets a data watch, changes the node, waits
 * for the event; an exists watch on a missing node then fires on create; a
 * child watch fires on a new child; a few error codes; cleanup.  Every line it
 * prints is deterministic (no times, zxids or session ids), so the test can
 * compare the output of two servers.  Exit status 0 only if all went well.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
/* The synchronous API is only declared for the multi-threaded library. */
#ifndef THREADED
#define THREADED
#endif
#include <zookeeper/zookeeper.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int connected = 0;
static int nevents = 0;
static char events[16][512];

static void global_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh; (void)path; (void)ctx;
    if (type == ZOO_SESSION_EVENT && state == ZOO_CONNECTED_STATE) {
        pthread_mutex_lock(&mu);
        connected = 1;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
}

/* Watcher for node events: remembers "tag type state path". */
static void node_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    pthread_mutex_lock(&mu);
    if (nevents < 16) {
        snprintf(events[nevents], sizeof events[0], "event %s type=%d state=%d path=%s",
                 (const char *)ctx, type, state, path ? path : "(null)");
        nevents++;
    }
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static int wait_until(int *flag_or_count, int want, int seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&mu);
    while (*flag_or_count < want) {
        if (pthread_cond_timedwait(&cv, &mu, &deadline) != 0)
            break;
    }
    int ok = *flag_or_count >= want;
    pthread_mutex_unlock(&mu);
    return ok;
}

static int failures = 0;

static void expect(const char *what, int rc, int want)
{
    printf("%s rc=%d\n", what, rc);
    if (rc != want) {
        fprintf(stderr, "FAIL: %s: rc=%d (%s), want %d\n", what, rc, zerror(rc), want);
        failures++;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_stat(const char *what, const struct Stat *st)
{
    printf("%s version=%d cversion=%d aversion=%d dataLength=%d numChildren=%d "
           "czxid==mzxid:%d pzxid>=czxid:%d ephemeral:%d\n",
           what, st->version, st->cversion, st->aversion, st->dataLength, st->numChildren,
           st->czxid == st->mzxid, st->pzxid >= st->czxid, st->ephemeralOwner != 0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s HOST:PORT BASEPATH\n", argv[0]);
        return 2;
    }
    const char *base = argv[2];
    char path[512], child[512], created[512], buf[512];
    struct Stat st;
    int len, rc;

    setvbuf(stdout, NULL, _IOLBF, 0);
    zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
    zhandle_t *zh = zookeeper_init(argv[1], global_watcher, 10000, 0, NULL, 0);
    if (!zh) {
        perror("zookeeper_init");
        return 1;
    }
    if (!wait_until(&connected, 1, 15)) {
        fprintf(stderr, "FAIL: not connected after 15s\n");
        return 1;
    }
    printf("connected\n");
    printf("negotiated timeout=%d\n", zoo_recv_timeout(zh));

    rc = zoo_create(zh, base, "hello", 5, &ZOO_OPEN_ACL_UNSAFE, 0, created, sizeof created);
    expect("create", rc, ZOK);
    printf("created %s\n", created);

    len = sizeof buf;
    rc = zoo_get(zh, base, 0, buf, &len, &st);
    expect("get", rc, ZOK);
    printf("data=%.*s\n", len, buf);
    print_stat("stat", &st);

    snprintf(path, sizeof path, "%s/seq-", base);
    rc = zoo_create(zh, path, "e", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL | ZOO_SEQUENCE,
                    created, sizeof created);
    expect("create ephemeral sequential", rc, ZOK);
    printf("created %s\n", created);
    rc = zoo_exists(zh, created, 0, &st);
    expect("exists", rc, ZOK);
    print_stat("ephemeral stat", &st);

    /* data watch, then change */
    len = sizeof buf;
    rc = zoo_wget(zh, base, node_watcher, "data", buf, &len, &st);
    expect("wget", rc, ZOK);
    rc = zoo_set(zh, base, "world", 5, 0);
    expect("set version 0", rc, ZOK);
    if (!wait_until(&nevents, 1, 10))
        fprintf(stderr, "FAIL: no data watch event\n"), failures++;

    /* exists watch on a missing node, then create it */
    snprintf(child, sizeof child, "%s/new", base);
    rc = zoo_wexists(zh, child, node_watcher, "exists", &st);
    expect("wexists missing", rc, ZNONODE);
    /* child watch on base */
    struct String_vector kids;
    rc = zoo_wget_children(zh, base, node_watcher, "child", &kids);
    expect("wget_children", rc, ZOK);
    deallocate_String_vector(&kids);
    rc = zoo_create(zh, child, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, created, sizeof created);
    expect("create child", rc, ZOK);
    if (!wait_until(&nevents, 3, 10))
        fprintf(stderr, "FAIL: missing exists/child events\n"), failures++;

    pthread_mutex_lock(&mu);
    for (int i = 0; i < nevents; i++)
        printf("%s\n", events[i]);
    pthread_mutex_unlock(&mu);

    len = sizeof buf;
    rc = zoo_get(zh, base, 0, buf, &len, &st);
    expect("get again", rc, ZOK);
    printf("data=%.*s\n", len, buf);
    print_stat("stat", &st);

    rc = zoo_get_children(zh, base, 0, &kids);
    expect("get_children", rc, ZOK);
    qsort(kids.data, kids.count, sizeof(char *), cmp_str);
    printf("children:");
    for (int i = 0; i < kids.count; i++)
        printf(" %s", kids.data[i]);
    printf("\n");
    deallocate_String_vector(&kids);

    len = sizeof buf;
    rc = zoo_get(zh, child, 0, buf, &len, &st);
    expect("get null data", rc, ZOK);
    printf("null data len=%d\n", len);

    /* errors */
    expect("create existing", zoo_create(zh, base, "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZNODEEXISTS);
    expect("set bad version", zoo_set(zh, base, "x", 1, 42), ZBADVERSION);
    expect("delete non-empty", zoo_delete(zh, base, -1), ZNOTEMPTY);
    expect("get missing", zoo_get(zh, "/no/such/node", 0, buf, &len, &st), ZNONODE);
    expect("create bad path", zoo_create(zh, "nope", "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZBADARGUMENTS);

    /* cleanup */
    expect("delete child", zoo_delete(zh, child, 0), ZOK);
    rc = zoo_get_children(zh, base, 0, &kids);
    for (int i = 0; rc == ZOK && i < kids.count; i++) {
        snprintf(path, sizeof path, "%s/%s", base, kids.data[i]);
        expect("delete ephemeral", zoo_delete(zh, path, -1), ZOK);
    }
    if (rc == ZOK)
        deallocate_String_vector(&kids);
    expect("delete base", zoo_delete(zh, base, 1), ZOK);
    expect("exists deleted", zoo_exists(zh, base, 0, &st), ZNONODE);
    expect("close", zookeeper_close(zh), ZOK);
    printf("done failures=%d\n", failures);
    return failures ? 1 : 0;
}
