//! SIGINT and SIGTERM stop the server gracefully: a request in flight gets
//! its whole answer, then the process exits 0 and says so in its log.

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
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
    let settings = [("IDHUB_LOG", "info")];
    let mut server = Server::start_watched(&database, port, &settings).await;

    let connection = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let mut connection = BufReader::new(connection);
    // A request whose head the server has read (it said 100 Continue)
    // and whose body comes only after the signal.
    let body = "grant_type=client_credentials&client_id=nobody&client_secret=x";
    let request = format!(
        "POST /api/rest/oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    connection
        .write_all(request.as_bytes())
        .await
        .expect("send the head");
    let mut interim = String::new();
    connection.read_line(&mut interim).await.expect("read");
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");
    connection.read_line(&mut interim).await.expect("read");

    server.signal(signal);
    // Not before the server has taken the signal in.
    server.wait_for_log("idhub is stopping");

    connection
        .write_all(body.as_bytes())
        .await
        .expect("send the body");
    let mut answer = String::new();
    connection
        .read_to_string(&mut answer)
        .await
        .expect("read the answer");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer.contains("invalid_client"),
        "the whole answer: {answer}"
    );

    // A second signal would exit at once: wait only.
    let (status, log) = server.wait_for_exit();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains(name), "says which signal: {log}");
    assert!(log.contains("idhub stopped"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes off a terminal: {log}"
    );
}
