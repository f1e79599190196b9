//! Which flow the customer display shows, and each running flow's current customer screen.
//!
//! The newest flow is shown as soon as it starts (at a counter, the customer in front of the desk
//! is almost always the one the agent just started); the agent can pick another in the
//! running-flows list. A finished flow's last screen stays until another flow is shown.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::flow::{FlowEvent, FlowId, FlowUpdate};
use crate::{Error, Result};

use super::view::Screen;

#[derive(Debug, Default)]
pub struct Follower {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    selected: Option<FlowId>,
    /// Flows that may still be shown: running ones, and the shown one even when finished.
    screens: HashMap<FlowId, Screen>,
}

/// What the display must do after an update of the shown flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub screen: Screen,
    /// The shown flow changed (the staff window marks the new one).
    pub newly_selected: bool,
}

impl Follower {
    /// Records `update`; `Some` when the display must change.
    pub fn observe(&self, update: &FlowUpdate) -> Option<Shown> {
        let screen = Screen::after(&update.event)?;
        let mut inner = self.lock();
        let id = &update.flow_id;
        let newly_selected = matches!(update.event, FlowEvent::Started { .. })
            && inner.selected.as_ref() != Some(id);
        if newly_selected {
            inner.select(id.clone());
        }
        if inner.selected.as_ref() == Some(id) {
            inner.screens.insert(id.clone(), screen.clone());
            Some(Shown {
                screen,
                newly_selected,
            })
        } else {
            if screen.is_final() {
                inner.screens.remove(id);
            } else {
                inner.screens.insert(id.clone(), screen);
            }
            None
        }
    }

    /// Shows `id` (the agent's choice); its current screen. A flow the display has never seen or
    /// has already forgotten (finished while another was shown) is `not_found`.
    pub fn select(&self, id: &FlowId) -> Result<Screen> {
        let mut inner = self.lock();
        let screen = inner
            .screens
            .get(id)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("no running flow {id} to show")))?;
        inner.select(id.clone());
        Ok(screen)
    }

    pub fn selected(&self) -> Option<FlowId> {
        self.lock().selected.clone()
    }

    /// The shown flow's screen, or `Idle`.
    pub fn screen(&self) -> Screen {
        let inner = self.lock();
        inner
            .selected
            .as_ref()
            .and_then(|id| inner.screens.get(id))
            .cloned()
            .unwrap_or(Screen::Idle)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map inconsistent (single inserts).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    fn select(&mut self, id: FlowId) {
        // The flow we leave is forgotten once it has finished: nobody can show it again.
        if let Some(old) = self.selected.take() {
            if self.screens.get(&old).is_some_and(Screen::is_final) {
                self.screens.remove(&old);
            }
        }
        self.selected = Some(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Method;

    fn update(id: &FlowId, event: FlowEvent) -> FlowUpdate {
        FlowUpdate {
            flow_id: id.clone(),
            event,
        }
    }

    fn started(id: &FlowId) -> FlowUpdate {
        update(
            id,
            FlowEvent::Started {
                flow_id: id.clone(),
                method: Method::NbidSafeConversation,
                expires_at: None,
            },
        )
    }

    fn words(id: &FlowId, text: &str) -> FlowUpdate {
        update(id, FlowEvent::BindingMessage { text: text.into() })
    }

    #[test]
    fn follows_the_newest_flow_and_the_agents_choice() {
        let f = Follower::default();
        assert_eq!(f.screen(), Screen::Idle);
        let (a, b) = (FlowId::new(), FlowId::new());
        let shown = f.observe(&started(&a)).unwrap();
        assert!(shown.newly_selected);
        f.observe(&words(&a, "Snedig redning")).unwrap();
        // A second customer starts: the display follows them; updates of the first are kept.
        assert!(f.observe(&started(&b)).unwrap().newly_selected);
        assert_eq!(f.observe(&words(&a, "Rask elg")), None);
        let shown = f.observe(&words(&b, "Blank sky")).unwrap();
        assert!(!shown.newly_selected);
        assert_eq!(f.selected(), Some(b.clone()));
        // The agent points the display back at the first customer.
        assert_eq!(
            f.select(&a).unwrap(),
            Screen::Words {
                text: "Rask elg".into()
            }
        );
        assert_eq!(f.selected(), Some(a));
    }

    #[test]
    fn a_finished_flow_stays_shown_until_another_is_and_is_then_forgotten() {
        let f = Follower::default();
        let (a, b) = (FlowId::new(), FlowId::new());
        f.observe(&started(&a));
        f.observe(&update(&a, FlowEvent::Expired)).unwrap();
        assert_eq!(f.screen(), Screen::TryAgain);
        f.observe(&started(&b));
        assert_eq!(f.select(&a).unwrap_err().code(), "not_found");
        // A flow that finishes while not shown is forgotten at once.
        let c = FlowId::new();
        f.observe(&started(&c));
        f.select(&b).unwrap();
        assert_eq!(f.observe(&update(&c, FlowEvent::Cancelled)), None);
        assert_eq!(f.select(&c).unwrap_err().code(), "not_found");
        assert_eq!(f.select(&FlowId::new()).unwrap_err().code(), "not_found");
    }
}
