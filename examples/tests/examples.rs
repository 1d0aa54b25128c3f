//! Runs every example and checks what it prints.

use std::process::Command;

fn run(binary: &str) -> String {
    run_with(binary, &[])
}

fn run_with(binary: &str, args: &[&str]) -> String {
    let output = Command::new(binary).args(args).output().expect("example runs");
    assert!(
        output.status.success(),
        "{binary} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

#[test]
fn example_00_hello() {
    assert_eq!(run(env!("CARGO_BIN_EXE_00_hello")), "hello, whirl\n");
}

/// README's example is example 1, word for word.
#[test]
fn readme_shows_example_01() {
    let readme = include_str!("../../README.md");
    let example = include_str!("../src/bin/01_counter.rs");
    assert!(
        readme.contains(&format!("```rust\n{example}```")),
        "README's example differs from examples/src/bin/01_counter.rs: copy the file into it"
    );
}

#[test]
fn example_01_counter() {
    assert_eq!(run(env!("CARGO_BIN_EXE_01_counter")), "counter = 42\n");
}

#[test]
fn example_02_cross_shard() {
    let out = run(env!("CARGO_BIN_EXE_02_cross_shard"));
    assert!(out.contains("alice plays on shard 0\n"), "{out}");
    assert!(out.contains("bob plays on shard 1\n"), "{out}");
    assert!(out.contains("carol plays on shard 0\n"), "{out}");
    assert!(out.ends_with("alice hit the ball 500 times\n"), "{out}");
}

#[test]
fn example_03_timers_and_io() {
    assert_eq!(run(env!("CARGO_BIN_EXE_03_timers_and_io")), "work done\ntimer\n");
}

#[test]
fn example_04_names_and_outside_threads() {
    assert_eq!(
        run(env!("CARGO_BIN_EXE_04_names_and_outside_threads")),
        "accumulator stopped with sum 5050\ndead letters: 0\n"
    );
}

#[test]
fn example_05_embedding() {
    assert_eq!(
        run(env!("CARGO_BIN_EXE_05_embedding")),
        "the actor answered from shard 1\nall executors finished\n"
    );
}

#[test]
fn example_06_restarts() {
    assert_eq!(
        run(env!("CARGO_BIN_EXE_06_restarts")),
        "incarnation ended: failed: not a number: \"forty\"\nsum 2 in incarnation 1\nrestarts: 1, failed messages: 1\nincarnation ended: the runtime shut down\n"
    );
}

#[test]
fn example_07_supervision() {
    assert_eq!(
        run(env!("CARGO_BIN_EXE_07_supervision")),
        "worker ended: failed: an empty word in \"bad  line\"\nright: 5 letters in incarnation 1\nleft: 6 letters in incarnation 0\nworker ended: taken down by its supervisor\nworker ended: taken down by its supervisor\nauditor: a worker is gone (stopped)\nrestarts: 1\n"
    );
}

#[test]
fn example_08_calling_from_a_program() {
    assert_eq!(
        run(env!("CARGO_BIN_EXE_08_calling_from_a_program")),
        "worker-0 handled 500\nworker-1 handled 500\nslept on a shard\nafter shutdown: closed\n"
    );
}

#[test]
fn example_09_watching() {
    assert_eq!(
        run(env!("CARGO_BIN_EXE_09_watching")),
        "greeted 999\ngreeter handled 1000 messages, mailbox now 0\n2 shards, 1 actors\n\
         whirl_actor_handled_total{shard=\"0\",actor=\"greeter\"} 1000\n"
    );
}

#[test]
fn example_11_work_pool() {
    let line = |pick: &str| {
        format!(
            "{pick}: 149 done, failed [(13, Failed {{ attempts: 2 }})], over budget Err(Failed {{ attempts: 1 }})\n"
        )
    };
    assert_eq!(
        run(env!("CARGO_BIN_EXE_11_work_pool")),
        line("RoundRobin") + &line("LeastLoaded"),
        "every item done but the one that always panics and the one over budget; \
         the flaky one retried"
    );
}

#[test]
fn example_12_pipeline() {
    let out = run_with(
        env!("CARGO_BIN_EXE_12_pipeline"),
        &["--rate", "100000", "--beats", "2", "--beat-ms", "100", "--spin-us", "0"],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("beat 1: ") && lines[0].contains(" items/s, "), "{out}");
    assert!(lines[1].starts_with("beat 2: "), "{out}");
    let counts: Vec<&str> = lines[2].split(", ").collect();
    let sent = counts[0].strip_prefix("sent ").expect("sent N");
    assert_eq!(counts[1], format!("handled {sent}"), "nothing lost: {out}");
    assert_eq!(counts[2], "sums match", "{out}");
    assert!(sent.parse::<u64>().unwrap() > 0, "{out}");
}

#[test]
fn example_13_supervision_tree() {
    let output = Command::new(env!("CARGO_BIN_EXE_13_supervision_tree")).output().unwrap();
    assert!(output.status.success());
    let (out, log) =
        (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        out,
        "poison 1: a and b restarted together; a is in incarnation 1, b in 1\n\
         poison 2: a and b restarted together; a is in incarnation 2, b in 2\n\
         poison 3: a and b restarted together; a is in incarnation 3, b in 3\n\
         root: cache restarted 0 time(s)\n\
         root: jobs restarted 1 time(s)\n\
         cache: incarnation 0\n"
    );
    assert_eq!(log.matches("reason=panicked: swallowed poison").count(), 6, "{log}");
    assert!(log.contains("restart intensity exceeded"), "{log}");
    assert!(log.contains("(escalation)"), "{log}");
    assert!(log.contains("child=jobs reason=failed too often"), "{log}");
}
