//! SIGINT and SIGTERM stop the server gracefully: a request in flight gets
//! its whole answer, then the process exits 0 and says so in its log.
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestDatabase;
use crate::kill::{free_port, Server};

#[tokio::test]
async fn sigint_lets_a_request_in_flight_finish_and_exits_0() {
    stops_gracefully_on(libc::SIGINT, "SIGINT").await;
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish_and_exits_0() {
    stops_gracefully_on(libc::SIGTERM, "SIGTERM").await;
}

async fn stops_gracefully_on(signal: libc::c_int, name: &str) {
    let database = TestDatabase::new();
    let port = free_port();
    let mut server =
        Server::start_logging(&database, port, &[("IDHUB_LOG", "info")], Stdio::piped()).await;
    let pid = libc::pid_t::try_from(server.child.id()).expect("a pid");

    // Half a request: the server is reading it when the signal comes.
    let body = "grant_type=client_credentials&client_id=nobody&client_secret=x";
    let (head, tail) = body.split_at(20);
    let mut in_flight = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let request = format!(
        "POST /api/rest/oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{head}",
        body.len()
    );
    in_flight
        .write_all(request.as_bytes())
        .await
        .expect("send the head");
    tokio::time::sleep(Duration::from_millis(200)).await;

    // SAFETY: signals our own child process.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    tokio::time::sleep(Duration::from_millis(500)).await;

    in_flight
        .write_all(tail.as_bytes())
        .await
        .expect("send the rest");
    let mut answer = String::new();
    in_flight
        .read_to_string(&mut answer)
        .await
        .expect("read the answer");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer.contains("invalid_client"),
        "the whole answer: {answer}"
    );

    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "idhub did not stop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(0));
    let mut log = String::new();
    server
        .child
        .stdout
        .take()
        .expect("the log")
        .read_to_string(&mut log)
        .expect("read the log");
    assert!(log.contains(name), "says which signal: {log}");
    assert!(log.contains("idhub stopped"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes off a terminal: {log}"
    );
}
