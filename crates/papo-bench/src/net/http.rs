//! A small HTTP/1.1 client for the sender: keep-alive connections in a pool, one request
//! in flight per connection, bodies framed by `Content-Length`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use anyhow::{Context, bail};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::ws::{find, tcp};

/// Idle keep-alive connections to one server.
pub struct Pool {
    server: SocketAddr,
    source: Option<IpAddr>,
    idle: Mutex<Vec<TcpStream>>,
}

/// An answer: status and body.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Pool {
    /// A pool for `server`, connecting from `source`.
    pub fn new(server: SocketAddr, source: Option<IpAddr>) -> Self {
        Self {
            server,
            source,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// `POST path` with a JSON body and a bearer token.
    pub async fn post_json(&self, path: &str, token: &str, body: &str) -> anyhow::Result<Answer> {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.server,
            body.len()
        );
        let idle = self.idle.lock().expect("pool poisoned").pop();
        let mut conn = match idle {
            Some(c) => c,
            None => tcp(self.source, self.server).await?,
        };
        let answer = exchange(&mut conn, request.as_bytes()).await?;
        self.idle.lock().expect("pool poisoned").push(conn);
        Ok(answer)
    }
}

async fn exchange(conn: &mut TcpStream, request: &[u8]) -> anyhow::Result<Answer> {
    conn.write_all(request).await?;
    let mut data: Vec<u8> = Vec::with_capacity(1024);
    let mut need: Option<(usize, u16)> = None;
    loop {
        if let Some((total, status)) = need
            && data.len() >= total
        {
            if data.len() > total {
                bail!("unexpected bytes after the response");
            }
            let head_end = find(&data, b"\r\n\r\n").map_or(0, |i| i + 4);
            return Ok(Answer {
                status,
                body: data[head_end..].to_vec(),
            });
        }
        conn.readable().await?;
        let mut buf = [0u8; 8192];
        match conn.try_read(&mut buf) {
            Ok(0) => bail!("connection closed before the response ended"),
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e.into()),
        }
        if need.is_none()
            && let Some(i) = find(&data, b"\r\n\r\n")
        {
            let (status, len) = parse_head(&data[..i])?;
            need = Some((i + 4 + len, status));
        }
    }
}

/// Status and `Content-Length` of a response head.
fn parse_head(head: &[u8]) -> anyhow::Result<(u16, usize)> {
    let text = std::str::from_utf8(head).context("response head is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .context("no status line")?;
    let mut len = None;
    for l in lines {
        let Some((name, value)) = l.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("content-length") {
            len = Some(value.trim().parse::<usize>()?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            bail!("chunked responses are not supported by the bench client");
        }
    }
    Ok((status, len.unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_give_status_and_length() {
        let head = b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nContent-Length: 42";
        assert_eq!(parse_head(head).unwrap(), (201, 42));
        assert_eq!(parse_head(b"HTTP/1.1 204 No Content").unwrap(), (204, 0));
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked").is_err());
        assert!(parse_head(b"garbage").is_err());
    }
}
