//! Actors that are not `Send`: built from a value on the shard they run on
//! (`System::spawn_local`, `Context::spawn_local`), among them an actor that
//! owns an accepted TCP connection, on the accepting shard or on another.

use std::io::{BufRead, BufReader, Write};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use futures_lite::{AsyncBufReadExt, AsyncWriteExt};
use whirl::glommio::net::{TcpListener, TcpStream};
use whirl::{Actor, ActorRef, Context, Placement, Reply, Runtime, SpawnError, System};

fn runtime() -> Runtime {
    Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build().unwrap()
}

/// Holds an `Rc`: not `Send`. Answers with its text's length, or spawns a
/// local child of its own.
struct Local(Rc<str>);

enum LocalMsg {
    Len(Reply<usize>),
    SpawnChild(Reply<ActorRef<LocalMsg>>),
}

impl Actor for Local {
    type Msg = LocalMsg;
    fn handle(&mut self, msg: LocalMsg, ctx: &mut Context<Self>) {
        match msg {
            LocalMsg::Len(reply) => reply.send(self.0.len()),
            LocalMsg::SpawnChild(reply) => {
                let child = Local(Rc::from(format!("{}!", self.0)));
                reply.send(ctx.spawn_local(child).expect("spawned on this shard"));
            }
        }
    }
}

#[test]
fn a_value_that_is_not_send_is_spawned_where_it_is() {
    let rt = runtime();
    rt.block_on(|sys| async move {
        let local = sys.spawn_local(Local(Rc::from("whirl"))).unwrap();
        assert_eq!(local.shard(), 0, "on the program's shard");
        assert_eq!(local.ask(LocalMsg::Len).await, Ok(5));
        let child = local.ask(LocalMsg::SpawnChild).await.unwrap();
        assert_eq!(child.ask(LocalMsg::Len).await, Ok(6));
    })
    .unwrap();
    // Off the shards: refused, with what to do instead.
    let refused = rt.system().spawn_local(Local(Rc::from("x")));
    assert_eq!(refused.err(), Some(SpawnError::NotOnAShard));
    assert!(SpawnError::NotOnAShard.to_string().contains("spawn_once"));
    rt.shutdown();
}

/// Owns one connection: reads lines, answers each upper-cased, and tells
/// the test what it served once the client closes.
struct Connection {
    stream: Option<TcpStream>,
    served: Served,
}

impl Actor for Connection {
    type Msg = Vec<String>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // The socket moves into a task of this shard; what it served comes
        // back as this actor's message.
        let stream = self.stream.take().expect("started once");
        ctx.pipe(serve(stream), |lines| lines);
    }

    fn handle(&mut self, lines: Vec<String>, ctx: &mut Context<Self>) {
        self.served.send((ctx.shard_id(), lines)).unwrap();
        ctx.stop();
    }
}

async fn serve(stream: TcpStream) -> Vec<String> {
    let mut stream = futures_lite::io::BufReader::new(stream);
    let mut lines = Vec::new();
    let mut line = String::new();
    while stream.read_line(&mut line).await.unwrap_or(0) > 0 {
        stream.get_mut().write_all(line.to_uppercase().as_bytes()).await.unwrap();
        lines.push(line.trim_end().to_owned());
        line.clear();
    }
    lines
}

/// A client on a plain thread: sends two lines, reads the answers.
fn client(port: u16) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut socket = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut reader = BufReader::new(socket.try_clone().unwrap());
        let mut answers = Vec::new();
        for line in ["hello", "whirl"] {
            socket.write_all(format!("{line}\n").as_bytes()).unwrap();
            let mut answer = String::new();
            reader.read_line(&mut answer).unwrap();
            answers.push(answer.trim_end().to_owned());
        }
        answers
    })
}

/// What a `Connection` reports: its shard and the lines it served.
type Served = mpsc::Sender<(usize, Vec<String>)>;

/// Listens, starts a client, and lets `hand_over` give the first connection
/// to a `Connection` actor; checks what the client got back, and that the
/// actor served both lines on shard `owner`.
fn serve_one_client<F, Fut>(owner: usize, hand_over: F)
where
    F: FnOnce(System, TcpListener, Served) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let rt = runtime();
    let (served, heard) = mpsc::channel();
    let client = rt
        .block_on(move |sys| async move {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let client = client(listener.local_addr().unwrap().port());
            hand_over(sys, listener, served).await;
            client
        })
        .unwrap();
    assert_eq!(client.join().unwrap(), ["HELLO", "WHIRL"]);
    let (shard, lines) = heard.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!((shard, lines), (owner, vec!["hello".to_owned(), "whirl".to_owned()]));
    rt.shutdown();
}

/// Accepted on shard 0 and owned there: `spawn_local` moves the stream in.
#[test]
fn an_actor_owns_a_connection_accepted_on_its_shard() {
    serve_one_client(0, |sys, listener, served| async move {
        let stream = listener.accept().await.unwrap();
        sys.spawn_local(Connection { stream: Some(stream), served }).unwrap();
    });
}

/// Accepted on shard 0, owned on shard 1: `shared_accept` gives a `Send`
/// stream, which the one-shot factory binds to shard 1's executor.
#[test]
fn an_actor_owns_a_connection_accepted_on_another_shard() {
    serve_one_client(1, |sys, listener, served| async move {
        let accepted = listener.shared_accept().await.unwrap();
        let build = move || Connection { stream: Some(accepted.bind_to_executor()), served };
        sys.spawn_once(Placement::Shard(1), build).unwrap();
    });
}
