//! Running one flow: every `FlowUpdate` becomes a stdout line as it happens; the terminal event
//! decides the exit code. A stop request (SIGINT or SIGTERM; on Windows Ctrl+C or the console
//! closing) cancels the session at Signicat first, then waits (bounded) for the engine's
//! `cancelled` so the customer's phone is cleared before we exit.

use std::sync::Arc;
use std::time::Duration;

use id_desk_core::desk::Desk;
use id_desk_core::flow::{EventSink, FlowEvent, FlowUpdate, Method};
use id_desk_core::runner::{exit_code, RawFlowInput};
use tokio::sync::mpsc;

use crate::args::{AuthCommand, SignCommand, SignWhat};
use crate::output::{self, exit};
use crate::stop::StopSignals;
use id_desk_core::Error;

/// How long a signal waits for the engine's `cancelled` before giving up on Signicat.
const CANCEL_GRACE: Duration = Duration::from_secs(3);
const CANCELLED: i32 = 5;

/// `-` means "read it from stdin" (one line), so a national identity number need not appear in
/// the process list; anything else is taken as given.
fn arg_or_stdin(value: &str, field: &str) -> Result<String, Error> {
    if value != "-" {
        return Ok(value.to_string());
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::invalid_input(field, format!("cannot read stdin: {e}")))?;
    Ok(line.trim().to_string())
}

pub fn auth_input(cmd: &AuthCommand) -> Result<RawFlowInput, Error> {
    Ok(match cmd {
        AuthCommand::Nbid {
            nin,
            call_initiator,
        } => RawFlowInput {
            nin: Some(arg_or_stdin(nin, "nin")?),
            call_initiator: call_initiator.clone(),
            ..RawFlowInput::new(Method::NbidSafeConversation)
        },
        AuthCommand::SbidPhone {
            nin,
            call_initiator,
            intention,
        } => RawFlowInput {
            nin: Some(arg_or_stdin(nin, "nin")?),
            call_initiator: call_initiator.clone(),
            intention: intention.clone(),
            ..RawFlowInput::new(Method::SbidPhone)
        },
        AuthCommand::SbidIdcard { qr_data } => RawFlowInput {
            qr_data: Some(arg_or_stdin(qr_data, "qr_data")?),
            ..RawFlowInput::new(Method::SbidIdCard)
        },
        AuthCommand::NbidMobile(p) => RawFlowInput {
            phone: Some(p.phone.clone()),
            birthdate: Some(p.birthdate.clone()),
            ..RawFlowInput::new(Method::NbidMobile)
        },
        AuthCommand::Sbid {
            nin, app_launch, ..
        } => RawFlowInput {
            nin: nin.as_deref().map(|n| arg_or_stdin(n, "nin")).transpose()?,
            ..RawFlowInput::new(if *app_launch {
                Method::SbidAppLaunch
            } else {
                Method::SbidQr
            })
        },
        AuthCommand::NbidInapp(p) => RawFlowInput {
            phone: Some(p.phone.clone()),
            birthdate: Some(p.birthdate.clone()),
            ..RawFlowInput::new(Method::NbidInapp)
        },
        AuthCommand::Ciba {
            login_hint,
            login_hint_token,
            binding_message,
            call_initiator,
        } => RawFlowInput {
            // A login hint is often a national identity number: `-` reads it from stdin too.
            login_hint: login_hint
                .as_deref()
                .map(|h| arg_or_stdin(h, "login_hint"))
                .transpose()?,
            login_hint_token: login_hint_token.clone(),
            binding_message: binding_message.clone(),
            call_initiator: call_initiator.clone(),
            ..RawFlowInput::new(Method::Ciba)
        },
        AuthCommand::SbidInapp { nin } => RawFlowInput {
            nin: Some(arg_or_stdin(nin, "nin")?),
            ..RawFlowInput::new(Method::SbidInapp)
        },
        AuthCommand::Redirect { provider } => RawFlowInput {
            provider: Some(provider.clone()),
            ..RawFlowInput::new(Method::Redirect)
        },
    })
}

/// The text (given, or read from `--text-file`) and the PDF's path.
fn sign_what(what: &SignWhat, mut raw: RawFlowInput) -> Result<RawFlowInput, Error> {
    raw.text = match (&what.text, &what.text_file) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(f)) => Some(std::fs::read_to_string(f).map_err(|e| {
            Error::invalid_input("text", format!("cannot read {}: {e}", f.display()))
        })?),
        (None, None) => None,
    };
    raw.pdf = what.pdf.as_ref().map(|p| p.to_string_lossy().into_owned());
    Ok(raw)
}

pub fn sign_input(cmd: &SignCommand) -> Result<RawFlowInput, Error> {
    Ok(match cmd {
        SignCommand::SbidPhone {
            nin,
            call_initiator,
            what,
        } => sign_what(
            what,
            RawFlowInput {
                nin: Some(arg_or_stdin(nin, "nin")?),
                call_initiator: Some(call_initiator.clone()),
                ..RawFlowInput::new(Method::SignSbidPhone)
            },
        )?,
        SignCommand::Link {
            provider,
            nin,
            what,
        } => sign_what(
            what,
            RawFlowInput {
                provider: Some(provider.clone()),
                nin: nin.as_deref().map(|n| arg_or_stdin(n, "nin")).transpose()?,
                ..RawFlowInput::new(Method::SignLink)
            },
        )?,
        SignCommand::Nbid { who, text } => RawFlowInput {
            phone: Some(who.phone.clone()),
            birthdate: Some(who.birthdate.clone()),
            text: Some(text.clone()),
            ..RawFlowInput::new(Method::NbidSign)
        },
        SignCommand::Sbid { nin, text } => RawFlowInput {
            nin: Some(arg_or_stdin(nin, "nin")?),
            text: Some(text.clone()),
            ..RawFlowInput::new(Method::SbidSign)
        },
    })
}

pub async fn run(desk: &Desk, raw: RawFlowInput) -> i32 {
    let mut stop = match StopSignals::install() {
        Ok(s) => s,
        Err(e) => {
            return output::failed(&id_desk_core::Error::Io(format!(
                "cannot listen for stop requests (SIGINT/SIGTERM, Ctrl+C): {e}"
            )))
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<FlowUpdate>();
    let sink: EventSink = Arc::new(move |update| {
        let _ = tx.send(update);
    });
    let flow_id = match desk.start(&raw, sink).await {
        Ok(id) => id,
        Err(e) => return output::failed(&e),
    };

    loop {
        tokio::select! {
            update = rx.recv() => match update {
                Some(update) => {
                    output::line(&update);
                    if update.event.is_terminal() {
                        // What the vault still owes (evidence after a disk error) gets ten more
                        // tries before this process and its memory are gone.
                        let owed = desk.settle_pending(10).await;
                        if owed > 0 {
                            tracing::error!(owed, "vault writes still owed at exit");
                        }
                        return exit_code(&update.event);
                    }
                }
                // The engine dropped the sink without a terminal event on it: ask the registry.
                None => return match desk.wait(&flow_id).await {
                    Some(event) => finish(FlowUpdate { flow_id, event }),
                    None => exit::OTHER,
                },
            },
            () = stop.recv() => break,
        }
    }

    if let Err(e) = desk.cancel(&flow_id).await {
        tracing::warn!(error = %e, "the cancel request failed");
    }
    let terminal = tokio::time::timeout(CANCEL_GRACE, async {
        while let Some(update) = rx.recv().await {
            output::line(&update);
            if update.event.is_terminal() {
                return Some(update.event);
            }
        }
        None
    })
    .await;
    match terminal {
        // A flow that finished while the cancel was on its way keeps its real outcome.
        Ok(Some(event)) => exit_code(&event),
        _ => {
            tracing::warn!("no confirmation of the cancel from Signicat in time");
            finish(FlowUpdate {
                flow_id,
                event: FlowEvent::Cancelled,
            });
            CANCELLED
        }
    }
}

fn finish(update: FlowUpdate) -> i32 {
    output::line(&update);
    exit_code(&update.event)
}
