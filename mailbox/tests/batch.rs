//! Batch push and pop move many items with one publication.

use whirl_mailbox::{spsc, Closed};

#[test]
fn push_iter_takes_only_what_fits() {
    let (mut tx, mut rx) = spsc::channel::<u32>(8).unwrap();
    let mut items = 0..20;
    assert_eq!(tx.push_iter(&mut items), Ok(8));
    assert_eq!(items.next(), Some(8), "the iterator was not advanced past what fit");
    assert_eq!(tx.push_iter(&mut items), Ok(0));
    let mut got = Vec::new();
    assert_eq!(rx.pop_each(5, |v| got.push(v)), Ok(5));
    assert_eq!(got, [0, 1, 2, 3, 4]);
    assert_eq!(tx.push_iter(&mut items), Ok(5));
    assert_eq!(rx.pop_each(usize::MAX, |v| got.push(v)), Ok(8));
    assert_eq!(got, [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13]);
}

#[test]
fn push_slice_copies_a_prefix() {
    let (mut tx, mut rx) = spsc::channel::<u8>(4).unwrap();
    assert_eq!(tx.push_slice(&[1, 2, 3, 4, 5, 6]), Ok(4));
    let mut out = [0u8; 8];
    assert_eq!(rx.pop_slice(&mut out), Ok(4));
    assert_eq!(&out[..4], &[1, 2, 3, 4]);
    assert_eq!(rx.pop_slice(&mut out), Ok(0));
}

#[test]
fn pop_each_respects_max() {
    let (mut tx, mut rx) = spsc::channel::<u8>(16).unwrap();
    tx.push_slice(&[7; 16]).unwrap();
    assert_eq!(rx.pop_each(3, drop), Ok(3));
    assert_eq!(rx.pop_each(0, drop), Ok(0));
    assert_eq!(rx.len(), 13);
}

#[test]
fn batches_report_closed() {
    let (mut tx, rx) = spsc::channel::<u8>(4).unwrap();
    drop(rx);
    assert_eq!(tx.push_slice(&[1]), Err(Closed));
    let mut items = 0..3u8;
    assert_eq!(tx.push_iter(&mut items), Err(Closed));
    assert_eq!(items.next(), Some(0), "nothing was taken from the iterator");

    let (mut tx, mut rx) = spsc::channel::<u8>(4).unwrap();
    tx.push_slice(&[1, 2]).unwrap();
    drop(tx);
    let mut out = [0u8; 4];
    assert_eq!(rx.pop_slice(&mut out), Ok(2), "drains first");
    assert_eq!(rx.pop_slice(&mut out), Err(Closed));
    assert_eq!(rx.pop_each(1, drop), Err(Closed));
}
