//! Savina banking: a teller moves money between random accounts; the
//! source account debits itself, asks the destination to credit, and holds
//! further transfers back until the destination has answered. The program
//! hands the teller's transfer requests to the source accounts.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use super::{Countdown, Run};
use crate::actors::{finish_line, Ctx, Group, Logic, Peer};
use crate::dispatch::Rng;

/// An account.
struct Account<P: Peer> {
    me: usize,
    balance: f64,
    all: Option<Group<P, Account<P>>>,
    teller: P::Addr<Countdown>,
    /// A transfer out waits for its destination's answer.
    waiting: bool,
    /// Transfers out that came while waiting: (to, amount).
    held: VecDeque<(usize, f64)>,
}

/// Messages of [`Account`].
enum AccountMsg<P: Peer> {
    /// Everyone's addresses.
    Start(Group<P, Account<P>>),
    /// The teller's request: move `amount` from this account to account
    /// `to`.
    Transfer {
        /// The destination's index.
        to: usize,
        /// How much.
        amount: f64,
    },
    /// Account `from` moves `amount` here.
    Credit {
        /// How much.
        amount: f64,
        /// The source's index, to answer.
        from: usize,
    },
    /// The destination has credited the transfer.
    Credited,
}

impl<P: Peer> Account<P> {
    fn transfer(&mut self, to: usize, amount: f64, ctx: &mut Ctx<'_, P, Self>) {
        self.balance -= amount;
        self.waiting = true;
        let all = self.all.as_ref().expect("started");
        ctx.send(&all[to], AccountMsg::Credit { amount, from: self.me });
    }
}

impl<P: Peer> Logic<P> for Account<P> {
    type Msg = AccountMsg<P>;

    fn handle(&mut self, msg: AccountMsg<P>, ctx: &mut Ctx<'_, P, Self>) {
        match msg {
            AccountMsg::Start(all) => self.all = Some(all),
            AccountMsg::Transfer { to, amount } if self.waiting => {
                self.held.push_back((to, amount));
            }
            AccountMsg::Transfer { to, amount } => self.transfer(to, amount, ctx),
            AccountMsg::Credit { amount, from } => {
                self.balance += amount;
                let all = self.all.as_ref().expect("started");
                ctx.send(&all[from], AccountMsg::Credited);
            }
            AccountMsg::Credited => {
                self.waiting = false;
                ctx.send(&self.teller, ());
                if let Some((to, amount)) = self.held.pop_front() {
                    self.transfer(to, amount, ctx);
                }
            }
        }
    }
}

/// `transactions` transfers between `accounts` accounts spread round robin
/// over the cores (the teller on core 0); counts transfers.
pub fn run<P: Peer>(peer: &P, accounts: usize, transactions: u64) -> Run {
    peer.block_on(move |h| async move {
        let began = Instant::now();
        let (done, finished) = finish_line();
        let teller = P::spawn(&h, 0, Countdown::new(transactions, done)).await;
        let mut all = Vec::with_capacity(accounts);
        for me in 0..accounts {
            let account = Account {
                me,
                balance: 1e9,
                all: None,
                teller: teller.clone(),
                waiting: false,
                held: VecDeque::new(),
            };
            all.push(P::spawn(&h, me, account).await);
        }
        let all: Arc<[_]> = all.into();
        for account in all.iter() {
            P::tell(account, AccountMsg::Start(all.clone())).await;
        }
        let mut rng = Rng::new(42);
        for _ in 0..transactions {
            let from = rng.below(accounts);
            let to = (from + 1 + rng.below(accounts - 1)) % accounts;
            let amount = rng.below(1000) as f64;
            P::tell(&all[from], AccountMsg::Transfer { to, amount }).await;
        }
        finished.await;
        Run { ops: transactions, elapsed: began.elapsed() }
    })
}
