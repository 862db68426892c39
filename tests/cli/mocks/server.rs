//! A wiremock server whose answers leave at once. wiremock leaves Nagle's algorithm on:
//! an answer written while an earlier one is still unacknowledged waits for that ACK,
//! which the client may hold back 40 ms (delayed ACK), a wait no real service imposes.
//! Linux gives accepted connections the listening socket's TCP_NODELAY.

use wiremock::MockServer;

pub async fn start() -> MockServer {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_nodelay(true).unwrap();
    socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
    let listener = socket.listen(1024).unwrap().into_std().unwrap();
    MockServer::builder().listener(listener).start().await
}
