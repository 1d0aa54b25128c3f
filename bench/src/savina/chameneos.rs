//! Savina chameneos: creatures meet in pairs at a mall and change colour,
//! until the mall has hosted its meetings.

use std::time::Instant;

use super::Run;
use crate::actors::{finish_line, Ctx, Done, Logic, Peer};

/// A creature's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Colour {
    /// Blue.
    Blue,
    /// Red.
    Red,
    /// Yellow.
    Yellow,
    /// No longer meeting.
    Faded,
}

impl Colour {
    /// The colour two creatures of `self` and `other` both take.
    fn complement(self, other: Colour) -> Colour {
        use Colour::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Blue, Red) | (Red, Blue) => Yellow,
            (Blue, Yellow) | (Yellow, Blue) => Red,
            (Red, Yellow) | (Yellow, Red) => Blue,
            _ => Faded,
        }
    }
}

/// Pairs the creatures that come to meet.
struct Mall<P: Peer> {
    meetings_left: u64,
    waiting: Option<(Colour, P::Addr<Creature<P>>)>,
    creatures_left: usize,
    meetings_seen: u64,
    done: Done<u64>,
}

/// Messages of [`Mall`].
enum MallMsg<P: Peer> {
    /// A creature of this colour wants to meet.
    Meet(Colour, P::Addr<Creature<P>>),
    /// A faded creature's count of meetings.
    Faded(u64),
}

impl<P: Peer> Logic<P> for Mall<P> {
    type Msg = MallMsg<P>;

    fn handle(&mut self, msg: MallMsg<P>, ctx: &mut Ctx<'_, P, Self>) {
        match msg {
            MallMsg::Meet(colour, creature) if self.meetings_left > 0 => {
                match self.waiting.take() {
                    None => self.waiting = Some((colour, creature)),
                    Some((_, first)) => {
                        self.meetings_left -= 1;
                        ctx.send(&first, CreatureMsg::Meet(colour, creature));
                    }
                }
            }
            MallMsg::Meet(_, creature) => ctx.send(&creature, CreatureMsg::Exit),
            MallMsg::Faded(meetings) => {
                self.meetings_seen += meetings;
                self.creatures_left -= 1;
                if self.creatures_left == 0 {
                    self.done.finish(self.meetings_seen);
                }
            }
        }
    }
}

/// A creature.
struct Creature<P: Peer> {
    mall: P::Addr<Mall<P>>,
    colour: Colour,
    meetings: u64,
}

/// Messages of [`Creature`].
enum CreatureMsg<P: Peer> {
    /// Go to the mall.
    Start,
    /// The mall paired you with this creature.
    Meet(Colour, P::Addr<Creature<P>>),
    /// The creature you met took this colour.
    Change(Colour),
    /// The mall has closed.
    Exit,
}

impl<P: Peer> Logic<P> for Creature<P> {
    type Msg = CreatureMsg<P>;

    fn handle(&mut self, msg: CreatureMsg<P>, ctx: &mut Ctx<'_, P, Self>) {
        match msg {
            CreatureMsg::Start => {}
            CreatureMsg::Meet(colour, other) => {
                self.colour = self.colour.complement(colour);
                self.meetings += 1;
                ctx.send(&other, CreatureMsg::Change(self.colour));
            }
            CreatureMsg::Change(colour) => {
                self.colour = colour;
                self.meetings += 1;
            }
            CreatureMsg::Exit => {
                self.colour = Colour::Faded;
                return ctx.send(&self.mall, MallMsg::Faded(self.meetings));
            }
        }
        let me = ctx.myself();
        ctx.send(&self.mall, MallMsg::Meet(self.colour, me));
    }
}

/// `meetings` meetings of `creatures` creatures spread round robin over the
/// cores (the mall on core 0); counts meetings.
pub fn run<P: Peer>(peer: &P, creatures: usize, meetings: u64) -> Run {
    peer.block_on(move |h| async move {
        let began = Instant::now();
        let (done, finished) = finish_line();
        let mall = Mall {
            meetings_left: meetings,
            waiting: None,
            creatures_left: creatures,
            meetings_seen: 0,
            done,
        };
        let mall = P::spawn(&h, 0, mall).await;
        let colours = [Colour::Blue, Colour::Red, Colour::Yellow];
        for i in 0..creatures {
            let creature = Creature { mall: mall.clone(), colour: colours[i % 3], meetings: 0 };
            let creature = P::spawn(&h, i + 1, creature).await;
            P::tell(&creature, CreatureMsg::Start).await;
        }
        assert_eq!(finished.await, 2 * meetings, "each meeting counted by both creatures");
        Run { ops: meetings, elapsed: began.elapsed() }
    })
}
