//! A poll cycle's trace span and duration: from the tick that starts tracker reads to the
//! candidate answer that ends the cycle. The span is the parent of the cycle's reads.

use std::time::Instant;

use symphony_scheduler::{Effect, Event, FetchPurpose};

use crate::metrics::ServiceMetrics;

/// The cycle in progress, if any.
#[derive(Default)]
pub(crate) struct TickTrace {
    /// When the Tick event being handled came off the queue.
    received: Option<Instant>,
    /// When the current poll cycle began (a tick that started tracker reads).
    started: Option<Instant>,
    /// The trace span of that cycle.
    span: Option<tracing::Span>,
}

impl TickTrace {
    /// A tick came off the queue now.
    pub fn received(&mut self) {
        self.received = Some(Instant::now());
    }

    /// After the scheduler handled `event` into `effects`: a tick whose effects read the
    /// tracker starts a cycle (with `running`/`retrying` on its span).
    pub fn handled(
        &mut self,
        event_was_tick: bool,
        effects: &[Effect],
        running: usize,
        retrying: usize,
    ) {
        if !event_was_tick {
            return;
        }
        let received = self.received.take();
        let starts_cycle = effects.iter().any(|e| {
            matches!(
                e,
                Effect::FetchByIds {
                    purpose: FetchPurpose::Reconcile,
                    ..
                } | Effect::FetchByStates {
                    purpose: FetchPurpose::Candidates,
                    ..
                }
            )
        });
        if starts_cycle {
            self.started = Some(received.unwrap_or_else(Instant::now));
            self.span = Some(tracing::debug_span!("tick", running, retrying));
        }
    }

    /// After `event`'s effects ran: the candidate answer ends the cycle, timed into `metrics`.
    pub fn performed(&mut self, event_ended_cycle: bool, metrics: &ServiceMetrics) {
        if !event_ended_cycle {
            return;
        }
        if let Some(started) = self.started.take() {
            metrics.tick(started.elapsed());
        }
        // Dropping the span ends it.
        self.span = None;
    }

    /// The span a read for `purpose` runs in: the cycle's for the cycle's own reads.
    pub fn span_for(&self, purpose: &FetchPurpose) -> tracing::Span {
        match purpose {
            FetchPurpose::Reconcile | FetchPurpose::Candidates => {
                self.span.clone().unwrap_or_else(tracing::Span::none)
            }
            _ => tracing::Span::none(),
        }
    }

    /// Whether `event` is a tick, and whether it ends a cycle (the candidate answer).
    pub fn classify(event: &Event) -> (bool, bool) {
        match event {
            Event::Tick { .. } => (true, false),
            Event::Fetched {
                purpose: FetchPurpose::Candidates,
                ..
            }
            | Event::CandidatesRead { .. } => (false, true),
            _ => (false, false),
        }
    }
}
