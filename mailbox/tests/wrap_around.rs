//! Positions wrap around the slot array many times without losing order.

use whirl_mailbox::spsc;

#[test]
fn many_laps_keep_order() {
    let (mut tx, mut rx) = spsc::channel::<u64>(4).unwrap();
    let laps: u64 = if cfg!(miri) { 50 } else { 10_000 };
    let mut next_in = 0;
    let mut next_out = 0;
    while next_out < laps * 4 {
        // Uneven steps so reads and writes straddle the end of the array.
        for _ in 0..3 {
            if tx.try_push(next_in).is_ok() {
                next_in += 1;
            }
        }
        for _ in 0..2 {
            if let Ok(v) = rx.try_pop() {
                assert_eq!(v, next_out);
                next_out += 1;
            }
        }
    }
}

#[test]
fn batches_straddle_the_end_of_the_array() {
    let (mut tx, mut rx) = spsc::channel::<u32>(8).unwrap();
    let mut out = [0u32; 8];
    let mut expected = 0u32;
    let mut next = 0u32;
    for _ in 0..if cfg!(miri) { 20 } else { 1_000 } {
        let batch: Vec<u32> = (next..next + 5).collect();
        let pushed = tx.push_slice(&batch).unwrap();
        next += pushed as u32;
        let popped = rx.pop_slice(&mut out[..3]).unwrap();
        for &v in &out[..popped] {
            assert_eq!(v, expected);
            expected += 1;
        }
    }
    while let Ok(v) = rx.try_pop() {
        assert_eq!(v, expected);
        expected += 1;
    }
    assert_eq!(expected, next);
}
