//! Names: register, look up, clashes, wrong types, freed on stop.

mod common;

use common::{runtime, Counter, CounterMsg};
use whirl::RegistryError;

#[test]
fn register_and_look_up_from_anywhere() {
    let rt = runtime(2);
    let sys = rt.system();
    let c = sys.spawn_on(1, || Counter { n: 3 }).unwrap();
    sys.register("counter", c).unwrap();
    // From this (foreign) thread ...
    let found = sys.lookup::<CounterMsg>("counter").unwrap();
    assert_eq!(found, c);
    // ... and from a shard.
    let n = rt
        .block_on(|sys| async move {
            let c = sys.lookup::<CounterMsg>("counter").unwrap();
            c.ask(CounterMsg::Get).await.unwrap()
        })
        .unwrap();
    assert_eq!(n, 3);
}

#[test]
fn a_taken_name_is_an_error() {
    let rt = runtime(2);
    let sys = rt.system();
    let a = sys.spawn_on(0, || Counter { n: 0 }).unwrap();
    let b = sys.spawn_on(1, || Counter { n: 0 }).unwrap();
    sys.register("x", a).unwrap();
    let err = sys.register("x", b).unwrap_err();
    assert_eq!(err, RegistryError::NameTaken("x".into()));
    assert!(err.to_string().contains("already registered"));
    assert!(sys.unregister("x"));
    assert!(!sys.unregister("x"), "already free");
    sys.register("x", b).unwrap();
    assert_eq!(sys.lookup::<CounterMsg>("x"), Ok(b));
}

#[test]
fn wrong_type_and_missing_names_are_errors_not_crashes() {
    let rt = runtime(2);
    let sys = rt.system();
    let a = sys.spawn_on(0, || Counter { n: 0 }).unwrap();
    sys.register("counter", a).unwrap();
    match sys.lookup::<String>("counter") {
        Err(RegistryError::WrongType { expected, found, .. }) => {
            assert!(expected.contains("String"));
            assert!(found.contains("CounterMsg"));
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    assert_eq!(sys.lookup::<CounterMsg>("nobody"), Err(RegistryError::NotFound("nobody".into())));
}

#[test]
fn the_name_frees_itself_when_the_actor_stops() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        for shard in 0..2 {
            let a = sys.spawn_on(shard, || Counter { n: 0 }).unwrap();
            sys.register("svc", a).unwrap();
            a.send(CounterMsg::Stop).unwrap();
            // Once the actor is gone (the ask fails), so is its name.
            assert!(a.ask(CounterMsg::Get).await.is_err());
            assert!(matches!(sys.lookup::<CounterMsg>("svc"), Err(RegistryError::NotFound(_))));
            let b = sys.spawn_on(shard, || Counter { n: 0 }).unwrap();
            sys.register("svc", b).unwrap();
            assert_ne!(a, b, "a new actor in a reused slot has a new generation");
            b.send(CounterMsg::Stop).unwrap();
            assert!(b.ask(CounterMsg::Get).await.is_err());
        }
        sys.shutdown().await;
    })
    .unwrap();
}
