//! A small static file server for a web site (`web_site`) on 127.0.0.1: GET and HEAD of the
//! files under one directory, with the content types a browser needs (`application/wasm` for
//! streaming compilation) and, unless asked not to, the cross-origin isolation headers
//! (`Cross-Origin-Opener-Policy: same-origin`, `Cross-Origin-Embedder-Policy: require-corp`)
//! that give the page `SharedArrayBuffer` and `Atomics.wait`.
//!
//! One thread per connection, one request per connection (`Connection: close`): it serves a
//! developer's browser and the tests, not the internet. Paths are taken component by
//! component; `..`, hidden files and anything but regular files are not served.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Longest request head read (request line and headers); a longer one gets 431, so a client
/// cannot make the server buffer without bound.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// What to serve and how.
pub struct Site {
    pub root: PathBuf,
    /// Send the COOP/COEP headers (cross-origin isolation).
    pub isolation: bool,
}

/// Binds 127.0.0.1:`port` (0: any free port). The caller learns the address, then [`serve`]s.
pub fn bind(port: u16) -> io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

/// Serves `site` on `listener` until the process ends.
pub fn serve(listener: TcpListener, site: Site) -> io::Result<()> {
    let site = Arc::new(site);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let site = site.clone();
        std::thread::spawn(move || {
            // A client that goes away mid-response is its own business.
            let _ = handle(stream, &site);
        });
    }
    Ok(())
}

fn handle(stream: TcpStream, site: &Site) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = (&mut reader)
            .take((MAX_HEAD_BYTES - head.len().min(MAX_HEAD_BYTES)) as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&line);
        if head.len() > MAX_HEAD_BYTES {
            return respond_error(stream, site, 431, "Request Header Fields Too Large");
        }
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let request_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let request_line = String::from_utf8_lossy(request_line);
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return respond_error(stream, site, 400, "Bad Request");
    };
    if method != "GET" && method != "HEAD" {
        return respond_error(stream, site, 405, "Method Not Allowed");
    }
    let Some(path) = file_path(&site.root, target) else {
        return respond_error(stream, site, 404, "Not Found");
    };
    let file = match std::fs::File::open(&path) {
        Ok(f) if f.metadata().is_ok_and(|m| m.is_file()) => f,
        _ => return respond_error(stream, site, 404, "Not Found"),
    };
    let len = file.metadata()?.len();
    let mut out = io::BufWriter::new(stream);
    write_head(&mut out, site, 200, "OK", content_type(&path), len)?;
    if method == "GET" {
        io::copy(&mut BufReader::new(file), &mut out)?;
    }
    out.flush()
}

/// The file under `root` that a request target names: percent-decoded, query dropped, `/` is
/// `index.html`. `None` for anything that could leave `root` or names a hidden file.
fn file_path(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?;
    let path = percent_decode(path)?;
    let mut out = root.to_path_buf();
    let mut last = "";
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if part.starts_with('.') || part.contains('\\') || part.contains('\0') {
            return None;
        }
        out.push(part);
        last = part;
    }
    if last.is_empty() || path.ends_with('/') {
        out.push("index.html");
    }
    Some(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The `Content-Type` for a file of the site, by extension.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json" | "map") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("tar") => "application/x-tar",
        _ => "application/octet-stream",
    }
}

fn write_head(
    out: &mut impl Write,
    site: &Site,
    code: u16,
    reason: &str,
    content_type: &str,
    len: u64,
) -> io::Result<()> {
    write!(
        out,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\n\
         Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n"
    )?;
    if site.isolation {
        out.write_all(
            b"Cross-Origin-Opener-Policy: same-origin\r\n\
              Cross-Origin-Embedder-Policy: require-corp\r\n",
        )?;
    }
    out.write_all(b"\r\n")
}

fn respond_error(mut stream: TcpStream, site: &Site, code: u16, reason: &str) -> io::Result<()> {
    let body = format!("{code} {reason}\n");
    write_head(
        &mut stream,
        site,
        code,
        reason,
        "text/plain; charset=utf-8",
        body.len() as u64,
    )?;
    stream.write_all(body.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_targets_map_to_files_under_the_root() {
        let root = Path::new("/site");
        let get = |t: &str| file_path(root, t).map(|p| p.display().to_string());
        assert_eq!(get("/").as_deref(), Some("/site/index.html"));
        assert_eq!(get("/?cmd=ls%20-l").as_deref(), Some("/site/index.html"));
        assert_eq!(get("/module.wasm").as_deref(), Some("/site/module.wasm"));
        assert_eq!(get("/a%20b.js").as_deref(), Some("/site/a b.js"));
        for bad in [
            "/../etc/passwd",
            "/%2e%2e/x",
            "/.git/config",
            "/a%5c..",
            "/%zz",
        ] {
            assert_eq!(get(bad), None, "{bad}");
        }
    }

    /// One request over a real socket; returns the response head and body.
    fn fetch(addr: SocketAddr, request: &str) -> (String, Vec<u8>) {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        (
            String::from_utf8_lossy(&all[..split]).into_owned(),
            all[split..].to_vec(),
        )
    }

    #[test]
    fn serves_files_with_types_and_isolation_headers() {
        let root = std::env::temp_dir().join(format!("ctr2wasm-serve-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("index.html"), "<p>hi</p>").unwrap();
        std::fs::write(root.join("module.wasm"), b"\0asm").unwrap();
        for isolation in [true, false] {
            let listener = bind(0).unwrap();
            let addr = listener.local_addr().unwrap();
            let site = Site {
                root: root.clone(),
                isolation,
            };
            std::thread::spawn(move || serve(listener, site));
            let (head, body) = fetch(addr, "GET /module.wasm HTTP/1.1\r\nHost: x\r\n\r\n");
            assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
            assert!(
                head.contains("Content-Type: application/wasm\r\n"),
                "{head}"
            );
            assert!(head.contains("Content-Length: 4\r\n"), "{head}");
            assert_eq!(body, b"\0asm");
            assert_eq!(
                head.contains("Cross-Origin-Opener-Policy: same-origin\r\n")
                    && head.contains("Cross-Origin-Embedder-Policy: require-corp\r\n"),
                isolation,
                "{head}"
            );
            let (head, body) = fetch(addr, "HEAD /?x=1 HTTP/1.1\r\n\r\n");
            assert!(
                head.contains("Content-Type: text/html; charset=utf-8\r\n"),
                "{head}"
            );
            assert!(body.is_empty());
            let (head, _) = fetch(addr, "GET /missing.js HTTP/1.1\r\n\r\n");
            assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"), "{head}");
            let (head, _) = fetch(addr, "POST / HTTP/1.1\r\n\r\n");
            assert!(head.starts_with("HTTP/1.1 405 "), "{head}");
        }
        std::fs::remove_dir_all(&root).unwrap();
    }
}
