//! The customer display's view of real flows: a Training desk runs flows against the simulator
//! over HTTP, and every update goes through `CustomerDisplay` as the app's event sink does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use id_desk_core::desk::{Desk, DeskPaths, ProfileChoice};
use id_desk_core::display::{CustomerDisplay, Frame, Screen};
use id_desk_core::flow::{FlowUpdate, Method};
use id_desk_core::messages::Lang;
use id_desk_core::runner::RawFlowInput;
use id_desk_simulator::SimulatorConfig;

struct Run {
    staff: Vec<String>,
    frames: Vec<Frame>,
}

/// Runs one flow to its end; returns what staff received (JSON) and what the display got.
async fn run(desk: &Desk, display: &Arc<CustomerDisplay>, raw: RawFlowInput) -> Run {
    let staff = Arc::new(Mutex::new(Vec::new()));
    let frames = Arc::new(Mutex::new(Vec::new()));
    let (s, f, d) = (staff.clone(), frames.clone(), display.clone());
    let sink = Arc::new(move |u: FlowUpdate| {
        if let Some((frame, _)) = d.observe(&u, Lang::Sv) {
            f.lock().unwrap().push(frame);
        }
        s.lock().unwrap().push(serde_json::to_string(&u).unwrap());
    });
    let id = desk.start(&raw, sink).await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), desk.wait(&id))
        .await
        .unwrap();
    let staff = staff.lock().unwrap().clone();
    let frames = frames.lock().unwrap().clone();
    Run { staff, frames }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_display_gets_the_code_and_the_end_but_never_the_customer() {
    let dir = tempfile::tempdir().unwrap();
    let paths = DeskPaths::under(dir.path());
    let (_sim, training) = id_desk_core::desk::training::start_with(SimulatorConfig::for_tests())
        .await
        .unwrap();
    let display = Arc::new(CustomerDisplay::open(paths.config_dir.clone()));
    display.set_merchant("Acme Telecom").unwrap();
    let desk = Desk::open(paths.clone(), ProfileChoice::Active, Some(training)).unwrap();

    // Anna Andersson scans the QR code after 1 s and approves after 2 s.
    let mut raw = RawFlowInput::new(Method::SbidQr);
    raw.nin = Some("19830406-2717".into());
    let swedish = run(&desk, &display, raw).await;
    // Safe Conversation: Kari Nordmann picks the words and approves.
    let mut raw = RawFlowInput::new(Method::NbidSafeConversation);
    raw.nin = Some("29124815345".into());
    raw.call_initiator = Some("user".into());
    let norwegian = run(&desk, &display, raw).await;

    // The staff stream names the customer (so the checks below can fail)...
    let staff = [swedish.staff.join("\n"), norwegian.staff.join("\n")].join("\n");
    assert!(staff.contains("198304062717") && staff.contains("29124815345"));
    // ...the display's never does.
    for frame in swedish.frames.iter().chain(&norwegian.frames) {
        let json = serde_json::to_string(frame).unwrap();
        for leak in [
            "198304062717",
            "8304062717",
            "29124815345",
            "Anna",
            "Kari",
            "*****",
        ] {
            assert!(!json.contains(leak), "display frame leaked {leak}: {json}");
        }
        assert_eq!(frame.merchant, "Acme Telecom");
        assert_eq!(frame.lang, Lang::Sv);
    }

    // The QR payloads the display got are the ones staff got, in the same order.
    let staff_qr: Vec<String> = swedish
        .staff
        .iter()
        .filter_map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            (v["type"] == "qr").then(|| v["data"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    let shown_qr: Vec<String> = swedish
        .frames
        .iter()
        .filter_map(|f| match &f.screen {
            Screen::Qr { data, svg } => {
                assert!(svg.starts_with("<svg"));
                Some(data.clone())
            }
            _ => None,
        })
        .collect();
    assert!(!shown_qr.is_empty(), "the display showed the QR code");
    assert_eq!(shown_qr, staff_qr);
    assert_eq!(swedish.frames.first().unwrap().screen, Screen::OpenApp);
    assert_eq!(swedish.frames.last().unwrap().screen, Screen::ThankYou);

    assert!(norwegian
        .frames
        .iter()
        .any(|f| matches!(&f.screen, Screen::Words { text } if !text.is_empty())));
    assert_eq!(norwegian.frames.last().unwrap().screen, Screen::ThankYou);
    // The name outlives the process.
    let again = CustomerDisplay::open(paths.config_dir.clone());
    assert_eq!(again.frame(Lang::En).merchant, "Acme Telecom");
}
