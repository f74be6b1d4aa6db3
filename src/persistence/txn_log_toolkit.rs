//! `zk-server txnlog-toolkit [-dhrvyc] <txn log file> (-z <zxid>)`: Java's
//! transaction log toolkit (`bin/zkTxnLogToolkit.sh`) with its options,
//! output and exit codes, as ZooKeeper 3.8 prints them:
//!
//! - dump (default): one line per txn, `<date> session 0x.. cxid 0x.. zxid
//!   0x.. <op> <txn>`, the txn rendered as Java's tool renders it (create,
//!   setData and the container/TTL creates as fields joined by commas, a
//!   multi's ops with their raw bytes, everything else in jute's
//!   `toString` layout), a `CRC ERROR - ` line before a txn whose checksum
//!   does not match, and `EOF reached after N txns.`;
//! - `-r` recover: copies the log to `<file>.fixed`, padded as a log is,
//!   rewriting the checksum of each bad record the operator accepts (`-y`:
//!   all of them, printed as `CRC FIXED - `); `-v` also prints every txn;
//! - `-c -z <zxid>` chop: copies the records up to `zxid` to
//!   `<file>.chopped<zxid>`.
//!
//! Dates are printed in UTC (Java uses the JVM's time zone), in the US
//! short-date/long-time layout Java's default locale gives. Runs on the
//! main thread before any server starts.
//!
//! Mirrors: `org.apache.zookeeper.server.persistence.TxnLogToolkit`,
//! `org.apache.zookeeper.server.util.LogChopper` and
//! `org.apache.jute.ToStringOutputArchive`.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::file_padding::FilePadding;
use crate::common::time::civil_from_unix;
use crate::jute::data::Acl;
use crate::jute::txn::{TxnBody, TxnLogEntry};
use crate::zoo_defs::op_code;

/// `ExitCode.EXECUTION_FINISHED`, `UNEXPECTED_ERROR`, `INVALID_INVOCATION`.
const EXIT_OK: i32 = 0;
const EXIT_ERROR: i32 = 1;
const EXIT_INVALID: i32 = 2;
/// "ZKLG".
const TXNLOG_MAGIC: i32 = 0x5a4b_4c47;
/// Java's default `zookeeper.preAllocSize` (64 MiB), the recovery file's padding.
const PRE_ALLOC_SIZE: u64 = 64 * 1024 * 1024;

const HELP: &str = "usage: TxnLogToolkit [-dhrvc] <txn_log_file_name> (-z <zxid>)
 -c,--chop         Chop mode. Chop txn file to a zxid.
 -d,--dump         Dump mode. Dump all entries of the log file with printing the content of a nodepath (default)
 -h,--help         Print help message
 -r,--recover      Recovery mode. Re-calculate CRC for broken entries.
 -v,--verbose      Be verbose in recovery mode: print all entries, not just fixed ones.
 -y,--yes          Non-interactive mode: repair all CRC errors without asking
 -z,--zxid <arg>   Used with chop. Zxid to which to chop.
";

/// The parsed command line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub help: bool,
    pub recover: bool,
    pub verbose: bool,
    pub yes: bool,
    pub chop: bool,
    pub zxid: Option<String>,
    pub files: Vec<String>,
}

/// Parses options as commons-cli's DefaultParser does for these options:
/// long names (`--recover`, `--zxid=5`), short ones bundled (`-rvy`), a
/// value after `-z` in the same word or the next one.
pub fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if let Some(long) = arg.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let short = match name {
                "help" => 'h',
                "recover" => 'r',
                "verbose" => 'v',
                "dump" => 'd',
                "yes" => 'y',
                "chop" => 'c',
                "zxid" => 'z',
                _ => return Err(format!("Unrecognized option: {}", arg)),
            };
            if short == 'z' {
                let value = match value {
                    Some(v) => v,
                    None if i < args.len() => {
                        i += 1;
                        args[i - 1].clone()
                    }
                    None => return Err("Missing argument for option: z".to_string()),
                };
                o.zxid = Some(value);
            } else {
                set_flag(&mut o, short);
            }
        } else if arg.len() > 1 && arg.starts_with('-') {
            let flags: Vec<char> = arg[1..].chars().collect();
            for (k, &c) in flags.iter().enumerate() {
                match c {
                    'h' | 'r' | 'v' | 'd' | 'y' | 'c' => set_flag(&mut o, c),
                    'z' => {
                        let rest: String = flags[k + 1..].iter().collect();
                        if !rest.is_empty() {
                            o.zxid = Some(rest);
                        } else if i < args.len() {
                            o.zxid = Some(args[i].clone());
                            i += 1;
                        } else {
                            return Err("Missing argument for option: z".to_string());
                        }
                        break;
                    }
                    _ if k == 0 => return Err(format!("Unrecognized option: {}", arg)),
                    _ => return Err(format!("Unrecognized option: -{}", c)),
                }
            }
        } else {
            o.files.push(arg.clone());
        }
    }
    Ok(o)
}

fn set_flag(o: &mut Options, c: char) {
    match c {
        'h' => o.help = true,
        'r' => o.recover = true,
        'v' => o.verbose = true,
        'y' => o.yes = true,
        'c' => o.chop = true,
        _ => {} // 'd': dump is the default
    }
}

/// Runs the toolkit; returns the process exit code. `input` answers the
/// recovery questions.
pub fn main(
    args: &[String],
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let options = match parse_options(args) {
        Ok(o) => o,
        Err(message) => {
            let _ = writeln!(err, "{}\n", message);
            let _ = out.write_all(HELP.as_bytes());
            return EXIT_ERROR;
        }
    };
    if options.help || options.files.is_empty() {
        let _ = out.write_all(HELP.as_bytes());
        return if options.help { EXIT_OK } else { EXIT_ERROR };
    }
    let file = PathBuf::from(&options.files[0]);
    if File::open(&file).is_err() {
        let _ = writeln!(
            err,
            "File doesn't exist or not readable: {}",
            file.display()
        );
        return EXIT_ERROR;
    }
    let result = match (&options.zxid, options.chop) {
        (Some(zxid), true) => chop(&file, zxid, out),
        _ => Dump::new(&file, &options).and_then(|mut d| d.run(input, out)),
    };
    let _ = out.flush();
    match result {
        Ok(code) => code,
        Err(Failure { code, message }) => {
            let _ = writeln!(err, "{}", message);
            code
        }
    }
}

/// An ending with a message for stderr and an exit code.
#[derive(Debug)]
struct Failure {
    code: i32,
    message: String,
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure {
            code: EXIT_ERROR,
            message: format!("Exception in thread \"main\" java.io.IOException: {}", e),
        }
    }
}

fn fail(code: i32, message: String) -> Failure {
    Failure { code, message }
}

/// One record of a log: its stored checksum and payload, or why there is none.
enum Next {
    Record(u64, Vec<u8>),
    /// End of file, or the zero padding after the last record.
    End,
}

/// Reads a record's checksum and payload; a short read is the end, as in Java.
fn read_record(r: &mut impl Read) -> io::Result<Next> {
    let mut head = [0u8; 12];
    if !read_full(r, &mut head)? {
        return Ok(Next::End);
    }
    let crc = u64::from_be_bytes(head[..8].try_into().expect("8 bytes"));
    let len = i32::from_be_bytes(head[8..].try_into().expect("4 bytes"));
    if len < 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("Unreasonable length = {}", len),
        ));
    }
    let mut bytes = vec![0u8; len as usize];
    if !read_full(r, &mut bytes)? {
        return Ok(Next::End);
    }
    Ok(if bytes.is_empty() {
        Next::End
    } else {
        Next::Record(crc, bytes)
    })
}

/// Fills `buf`; false on end of file before it is full.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    match r.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

fn read_header(r: &mut impl Read, file: &Path) -> Result<(i32, i64), Failure> {
    let mut h = [0u8; 16];
    r.read_exact(&mut h)?;
    let magic = i32::from_be_bytes(h[..4].try_into().expect("4 bytes"));
    if magic != TXNLOG_MAGIC {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Err(fail(
            EXIT_INVALID,
            format!("Invalid magic number for {}", name),
        ));
    }
    let version = i32::from_be_bytes(h[4..8].try_into().expect("4 bytes"));
    let dbid = i64::from_be_bytes(h[8..].try_into().expect("8 bytes"));
    Ok((version, dbid))
}

fn header_line(version: i32, dbid: i64) -> String {
    format!(
        "ZooKeeper Transactional Log File with dbid {} txnlog format version {}",
        dbid, version
    )
}

fn adler32(bytes: &[u8]) -> u64 {
    let mut a = simd_adler32::Adler32::new();
    a.write(bytes);
    u64::from(a.finish())
}

/// Dump and recovery mode.
struct Dump {
    file: PathBuf,
    recover: bool,
    verbose: bool,
    yes: bool,
    /// `<file>.fixed` and its padding, in recovery mode.
    fixed: Option<(PathBuf, File, FilePadding)>,
}

impl Dump {
    fn new(file: &Path, o: &Options) -> Result<Dump, Failure> {
        let mut fixed = None;
        if o.recover {
            let path = PathBuf::from(format!("{}.fixed", file.display()));
            let opened = OpenOptions::new().write(true).create_new(true).open(&path);
            let Ok(out) = opened else {
                return Err(fail(
                    EXIT_ERROR,
                    format!(
                        "Recovery file {} already exists or not writable",
                        path.display()
                    ),
                ));
            };
            fixed = Some((path, out, FilePadding::new(PRE_ALLOC_SIZE, 0)));
        }
        Ok(Dump {
            file: file.to_path_buf(),
            recover: o.recover,
            verbose: o.verbose,
            yes: o.yes,
            fixed,
        })
    }

    fn run(&mut self, input: &mut dyn BufRead, out: &mut dyn Write) -> Result<i32, Failure> {
        let mut r = BufReader::new(File::open(&self.file)?);
        let (version, dbid) = read_header(&mut r, &self.file)?;
        writeln!(out, "{}", header_line(version, dbid))?;
        let mut fixed_count = 0;
        if let Some((_, f, padding)) = self.fixed.as_mut() {
            let mut header = Vec::with_capacity(16);
            header.extend_from_slice(&TXNLOG_MAGIC.to_be_bytes());
            header.extend_from_slice(&version.to_be_bytes());
            header.extend_from_slice(&dbid.to_be_bytes());
            f.write_all(&header)?;
            *padding = FilePadding::new(PRE_ALLOC_SIZE, 16);
        }
        let mut count = 0;
        let mut position = 16u64;
        let mut words = Vec::new();
        loop {
            let (mut crc, bytes) = match read_record(&mut r)? {
                Next::Record(crc, bytes) => (crc, bytes),
                Next::End => {
                    writeln!(out, "EOF reached after {} txns.", count)?;
                    break;
                }
            };
            let actual = adler32(&bytes);
            if crc != actual {
                if self.recover && !self.yes {
                    print_txn(out, &bytes, "CRC ERROR")?;
                    if ask_for_fix(input, out, &mut words)? {
                        crc = actual;
                        fixed_count += 1;
                    }
                } else if self.recover {
                    crc = actual;
                    print_txn(out, &bytes, "CRC FIXED")?;
                    fixed_count += 1;
                } else {
                    print_txn(out, &bytes, "CRC ERROR")?;
                }
            }
            if !self.recover || self.verbose {
                print_txn(out, &bytes, "")?;
            }
            let mut eor = [0u8; 1];
            r.read_exact(&mut eor)?;
            if eor[0] != b'B' {
                return Err(fail(
                    EXIT_ERROR,
                    "Last transaction was partial.".to_string(),
                ));
            }
            if let Some((_, f, padding)) = self.fixed.as_mut() {
                padding.pad_file(f, position)?;
                let mut record = Vec::with_capacity(bytes.len() + 13);
                record.extend_from_slice(&crc.to_be_bytes());
                record.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                record.extend_from_slice(&bytes);
                record.push(b'B');
                f.write_all(&record)?;
                position += record.len() as u64;
            }
            count += 1;
        }
        if let Some((path, _, _)) = &self.fixed {
            writeln!(
                out,
                "Recovery file {} has been written with {} fixed CRC error(s)",
                path.display(),
                fixed_count
            )?;
        }
        Ok(EXIT_OK)
    }
}

/// "Would you like to fix it (Yes/No/Abort) ?" until the first letter of
/// the next word is one of those. `words` keeps the rest of the line read
/// (the answers are words, as Java's Scanner reads them, not lines).
fn ask_for_fix(
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    words: &mut Vec<String>,
) -> Result<bool, Failure> {
    loop {
        write!(out, "Would you like to fix it (Yes/No/Abort) ? ")?;
        out.flush()?;
        while words.is_empty() {
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                return Err(fail(
                    EXIT_ERROR,
                    "Exception in thread \"main\" java.util.NoSuchElementException".into(),
                ));
            }
            *words = line.split_whitespace().rev().map(str::to_string).collect();
        }
        let word = words.pop().expect("not empty");
        match word.chars().next().map(|c| c.to_ascii_uppercase()) {
            Some('Y') => return Ok(true),
            Some('N') => return Ok(false),
            Some('A') => return Err(fail(EXIT_OK, "Recovery aborted.".to_string())),
            _ => {}
        }
    }
}

fn print_txn(out: &mut dyn Write, bytes: &[u8], prefix: &str) -> Result<(), Failure> {
    let entry = TxnLogEntry::from_bytes(bytes).map_err(|e| {
        fail(
            EXIT_ERROR,
            format!("Exception in thread \"main\" java.io.IOException: {}", e),
        )
    })?;
    let line = txn_line(&entry);
    if !prefix.trim().is_empty() {
        write!(out, "{} - ", prefix)?;
    }
    if line.ends_with('\n') {
        write!(out, "{}", line)?;
    } else {
        writeln!(out, "{}", line)?;
    }
    Ok(())
}

#[path = "txn_log_toolkit_text.rs"]
mod text;
#[cfg(test)]
use text::txn_text;
pub use text::{java_date, jute_string, op2string, txn_line};

/// `-c -z <zxid>`: the records up to and including `zxid` into
/// `<file>.chopped<zxid>` (LogChopper); a failure is printed as Java's
/// tool prints it (`Got exception: ...`, exit 0).
fn chop(file: &Path, zxid_text: &str, out: &mut dyn Write) -> Result<i32, Failure> {
    let Some(zxid) = java_long_decode(zxid_text) else {
        return Err(fail(
            EXIT_ERROR,
            format!(
                "Exception in thread \"main\" java.lang.NumberFormatException: For input string: \"{}\"",
                zxid_text
            ),
        ));
    };
    let target = PathBuf::from(format!("{}.chopped{}", file.display(), zxid));
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match chop_into(file, &target, zxid, out) {
        Ok(true) => {}
        Ok(false) => writeln!(out, "Got exception: Failed to chop {}", name)?,
        Err(e) => writeln!(out, "Got exception: {}", e.message)?,
    }
    Ok(EXIT_OK)
}

fn chop_into(file: &Path, target: &Path, zxid: i64, out: &mut dyn Write) -> Result<bool, Failure> {
    let mut r = BufReader::new(File::open(file)?);
    let mut w = BufWriter::new(File::create(target)?);
    let (version, dbid) = match read_header(&mut r, file) {
        Ok(h) => h,
        Err(f) if f.code == EXIT_INVALID => {
            eprintln!("Invalid magic number in txn log file");
            return Ok(false);
        }
        Err(f) => return Err(f),
    };
    writeln!(out, "{}", header_line(version, dbid))?;
    w.write_all(&TXNLOG_MAGIC.to_be_bytes())?;
    w.write_all(&version.to_be_bytes())?;
    w.write_all(&dbid.to_be_bytes())?;
    let (mut count, mut has_zxid, mut previous) = (0, false, -1i64);
    loop {
        let (crc, bytes) = match read_record(&mut r)? {
            Next::Record(crc, bytes) => (crc, bytes),
            Next::End => {
                writeln!(out, "EOF reached after {} txns.", count)?;
                w.flush()?;
                return Ok(false);
            }
        };
        let actual = adler32(&bytes);
        if crc != actual {
            return Err(fail(
                EXIT_ERROR,
                format!("CRC doesn't match {} vs {}", crc as i64, actual),
            ));
        }
        let entry = TxnLogEntry::from_bytes(&bytes).map_err(|e| fail(EXIT_ERROR, e.to_string()))?;
        let mut eor = [0u8; 1];
        r.read_exact(&mut eor)?;
        if eor[0] != b'B' {
            writeln!(out, "Last transaction was partial.")?;
            return Err(fail(
                EXIT_ERROR,
                "Last transaction was partial.".to_string(),
            ));
        }
        let txn_zxid = entry.header.zxid;
        has_zxid |= txn_zxid == zxid;
        if previous != -1 && txn_zxid != previous + 1 {
            if txn_zxid >> 32 == previous >> 32 {
                writeln!(
                    out,
                    "There is intra-epoch gap between {:x} and {:x}",
                    previous, txn_zxid
                )?;
            } else if txn_zxid & 0xffff_ffff != 1 {
                writeln!(
                    out,
                    "There is inter-epoch gap between {:x} and {:x}",
                    previous, txn_zxid
                )?;
            }
        }
        previous = txn_zxid;
        if txn_zxid > zxid {
            w.flush()?;
            if count == 0 || !has_zxid {
                writeln!(out, "This log does not contain zxid {:x}", zxid)?;
                return Ok(false);
            }
            writeln!(out, "Chopping at {:x} new log has {} records", zxid, count)?;
            return Ok(true);
        }
        w.write_all(&crc.to_be_bytes())?;
        w.write_all(&(bytes.len() as i32).to_be_bytes())?;
        w.write_all(&bytes)?;
        w.write_all(b"B")?;
        count += 1;
    }
}

/// Java's `Long.decode`: decimal, `0x`/`#` hex, leading-zero octal, a sign.
pub fn java_long_decode(s: &str) -> Option<i64> {
    let (negative, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) =
        if let Some(h) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
            (16, h)
        } else if let Some(h) = rest.strip_prefix('#') {
            (16, h)
        } else if rest.len() > 1 && rest.starts_with('0') {
            (8, &rest[1..])
        } else {
            (10, rest)
        };
    if digits.is_empty() || digits.starts_with(['-', '+']) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::data::Id;
    use crate::jute::txn::{CloseSessionTxn, CreateTxn, DeleteTxn, ErrorTxn, SetAclTxn, Txn};

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_as_commons_cli_parses_them() {
        let o = parse_options(&args(&["-rvy", "log.1"])).unwrap();
        assert!(o.recover && o.verbose && o.yes && !o.chop);
        assert_eq!(o.files, ["log.1"]);
        let o = parse_options(&args(&["--chop", "--zxid=0x10", "f"])).unwrap();
        assert!(o.chop && o.zxid.as_deref() == Some("0x10"));
        assert_eq!(
            parse_options(&args(&["-c", "-z", "5", "f"]))
                .unwrap()
                .zxid
                .as_deref(),
            Some("5")
        );
        assert_eq!(
            parse_options(&args(&["-cz5", "f"]))
                .unwrap()
                .zxid
                .as_deref(),
            Some("5")
        );
        assert_eq!(
            parse_options(&args(&["-q", "f"])),
            Err("Unrecognized option: -q".to_string())
        );
        assert_eq!(
            parse_options(&args(&["--nope"])),
            Err("Unrecognized option: --nope".to_string())
        );
        assert_eq!(
            parse_options(&args(&["-z"])),
            Err("Missing argument for option: z".to_string())
        );
    }

    #[test]
    fn jute_text_layouts() {
        let world = Acl {
            perms: 31,
            id: Id {
                scheme: "world".into(),
                id: "anyone".into(),
            },
        };
        let create = TxnBody::Create(CreateTxn {
            path: "/a".into(),
            data: Some(b"hi".to_vec()),
            acl: vec![world.clone(), world.clone()],
            ephemeral: true,
            parent_c_version: 3,
        });
        assert_eq!(
            txn_text(&create),
            "/a,hi,[31,s{'world,'anyone}\n, 31,s{'world,'anyone}\n],true,3"
        );
        assert_eq!(
            txn_text(&TxnBody::Delete(DeleteTxn {
                path: "/a,b}%".into()
            })),
            "'/a%2Cb%7D%25\n"
        );
        assert_eq!(txn_text(&TxnBody::Error(ErrorTxn { err: -101 })), "-101\n");
        let close = CloseSessionTxn {
            paths2_delete: vec!["/e1".into(), "/e2".into()],
        };
        assert_eq!(
            txn_text(&TxnBody::CloseSession(Some(close))),
            "v{'/e1,'/e2}\n"
        );
        assert_eq!(
            txn_text(&TxnBody::CloseSession(Some(CloseSessionTxn {
                paths2_delete: vec![]
            }))),
            "v{}\n"
        );
        let set_acl = SetAclTxn {
            path: "/a".into(),
            acl: vec![world],
            version: 2,
        };
        assert_eq!(
            txn_text(&TxnBody::SetAcl(set_acl)),
            "'/a,v{s{31,s{'world,'anyone}}},2\n"
        );
        let multi = crate::jute::txn::MultiTxn {
            txns: vec![
                Txn {
                    r#type: 2,
                    data: Some(b"x".to_vec()),
                },
                Txn {
                    r#type: -1,
                    data: None,
                },
            ],
        };
        assert_eq!(txn_text(&TxnBody::Multi(multi)), "delete:x;error:");
    }

    #[test]
    fn dates_and_numbers_as_java_prints_them() {
        assert_eq!(java_date(1_796_616_239_237), "12/7/26, 4:03:59 AM UTC");
        assert_eq!(java_date(0), "1/1/70, 12:00:00 AM UTC");
        assert_eq!(java_date(13 * 3_600_000 + 5_000), "1/1/70, 1:00:05 PM UTC");
        assert_eq!(java_long_decode("0x1f"), Some(31));
        assert_eq!(java_long_decode("#10"), Some(16));
        assert_eq!(java_long_decode("010"), Some(8));
        assert_eq!(java_long_decode("-5"), Some(-5));
        assert_eq!(java_long_decode("x"), None);
        assert_eq!(op2string(op_code::CREATE_TTL), "createTtl");
        assert_eq!(op2string(999), "unknown 999");
    }
}
