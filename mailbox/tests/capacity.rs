//! Which capacities a ring accepts, and that it holds exactly that many.

use whirl_mailbox::spsc;

#[test]
fn zero_capacity_is_an_error() {
    let err = spsc::channel::<u8>(0).unwrap_err();
    assert_eq!(err.requested(), 0);
    assert!(err.to_string().contains("at least one slot"), "{err}");
}

#[test]
fn non_power_of_two_is_an_error_that_says_what_to_do() {
    for capacity in [3, 6, 100, 1000] {
        let err = spsc::channel::<u8>(capacity).unwrap_err();
        assert!(err.to_string().contains("power of two"), "{err}");
    }
}

#[test]
fn absurd_capacity_is_an_error_not_an_abort() {
    let err = spsc::channel::<u64>(1 << 62).unwrap_err();
    assert!(err.to_string().contains("overflows"), "{err}");
    // Fits the address space on paper, but not in memory. (Miri stops at
    // the failed allocation itself instead of reporting it.)
    if cfg!(miri) {
        return;
    }
    let err = spsc::channel::<[u8; 64]>(1 << 52).unwrap_err();
    assert!(err.to_string().contains("memory") || err.to_string().contains("overflows"), "{err}");
}

#[test]
fn holds_exactly_capacity_items() {
    for capacity in [1, 2, 8, 64] {
        let (mut tx, mut rx) = spsc::channel::<usize>(capacity).unwrap();
        assert_eq!(tx.capacity(), capacity);
        assert_eq!(rx.capacity(), capacity);
        for i in 0..capacity {
            tx.try_push(i).unwrap();
        }
        assert_eq!(tx.free_slots(), 0);
        assert!(tx.try_push(capacity).unwrap_err().is_full());
        for i in 0..capacity {
            assert_eq!(rx.try_pop(), Ok(i));
        }
        assert_eq!(tx.free_slots(), capacity);
    }
}
