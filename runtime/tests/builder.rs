//! A bad configuration fails at build time with a message that says what to do.

use whirl::{ConfigError, Error, Runtime};

#[test]
fn zero_shards() {
    let err = Runtime::builder().shards(0).build().unwrap_err();
    assert_eq!(err, Error::Config(ConfigError::NoShards));
    assert!(err.to_string().contains(".shards(1)"), "{err}");
}

#[test]
fn more_pinned_shards_than_cpus() {
    let cpus = std::thread::available_parallelism().unwrap().get();
    let err = Runtime::builder().shards(cpus + 1).build().unwrap_err();
    assert!(
        matches!(err, Error::Config(ConfigError::TooManyShards { requested, .. }) if requested == cpus + 1)
    );
    assert!(err.to_string().contains("pin(false)"), "{err}");
}

#[test]
fn ring_capacity_must_be_a_power_of_two() {
    for bad in [0, 1, 3, 1000] {
        let err = Runtime::builder().shards(1).ring_capacity(bad).build().unwrap_err();
        assert_eq!(err, Error::Config(ConfigError::RingCapacity(bad)));
        assert!(err.to_string().contains("power of two"), "{err}");
    }
    let err = Runtime::builder().shards(1).ring_capacity(1000).build().unwrap_err();
    assert!(err.to_string().contains("use 1024"), "{err}");
}

#[test]
fn zero_capacities_and_budget() {
    let err = Runtime::builder().shards(1).mailbox_capacity(0).build().unwrap_err();
    assert!(err.to_string().contains("mailbox capacity must be at least 1"), "{err}");
    let err = Runtime::builder().shards(1).injector_capacity(0).build().unwrap_err();
    assert!(matches!(err, Error::Config(ConfigError::ZeroCapacity(_))));
    let err = Runtime::builder().shards(1).turn_budget(0).build().unwrap_err();
    assert_eq!(err, Error::Config(ConfigError::ZeroBudget));
}

#[test]
fn unpinned_runtimes_may_have_more_shards_than_cpus() {
    let cpus = std::thread::available_parallelism().unwrap().get();
    let rt = Runtime::builder()
        .shards(cpus + 1)
        .pin(false)
        .spin_before_park(std::time::Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(rt.system().shards(), cpus + 1);
    rt.shutdown();
}

#[test]
fn default_shard_count_is_one_per_cpu() {
    let rt = Runtime::builder().spin_before_park(std::time::Duration::ZERO).build().unwrap();
    assert_eq!(rt.system().shards(), std::thread::available_parallelism().unwrap().get());
}

/// The old name of `turn_budget` still works (deprecated for one release).
#[test]
#[allow(deprecated)]
fn fairness_budget_is_a_deprecated_alias_of_turn_budget() {
    assert_eq!(whirl::DEFAULT_FAIRNESS_BUDGET, whirl::DEFAULT_TURN_BUDGET);
    let err = Runtime::builder().shards(1).fairness_budget(0).build().unwrap_err();
    let new = Runtime::builder().shards(1).turn_budget(0).build().unwrap_err();
    assert_eq!(err.to_string(), new.to_string());
}

#[test]
fn a_spin_longer_than_a_second_is_refused_with_what_to_use() {
    let too_long = whirl::MAX_SPIN_BEFORE_PARK + std::time::Duration::from_nanos(1);
    let err = Runtime::builder().shards(1).spin_before_park(too_long).build().unwrap_err();
    assert_eq!(err, Error::Config(ConfigError::SpinTooLong(too_long)));
    assert!(err.to_string().contains("zero to park at once"), "{err}");
    let at_most = Runtime::builder().shards(1).spin_before_park(whirl::MAX_SPIN_BEFORE_PARK);
    drop(at_most.build().expect("a second is allowed"));
}
