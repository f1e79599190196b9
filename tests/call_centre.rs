//! Issue 22 in the real window (Training): the Identify screen grouped by where the customer is,
//! Swedish BankID Phone with who-called-whom and the intention text, the declined call and the
//! retry rules, a screen-pop link from the phone system (filled in, never sent), and the Swedish
//! ID card scanned into its field as a USB barcode scanner types it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use id_desk_e2e::{app_dirs, binary, Desk};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);
/// Valid personnummer that no built-in persona answers for: the training phone decides.
const SE_INTERACTIVE: &str = "199001011239";
const SE_INTERACTIVE_2: &str = "198507124561";
/// Valid fødselsnummer, interactive.
const NO_INTERACTIVE: &str = "12038010008";

async fn flow_count(desk: &Desk) -> usize {
    desk.js("return document.querySelectorAll('.flow-card').length")
        .await
        .unwrap()
        .as_u64()
        .unwrap_or_default() as usize
}

async fn wait_card(desk: &Desk, state: &str) -> String {
    desk.wait_text(
        &format!(".flow-card[data-state='{state}']"),
        Duration::from_secs(20),
        |t| !t.is_empty(),
    )
    .await
    .unwrap()
}

#[tokio::test]
#[ignore = "needs the built app, tauri-driver and a display: run `make e2e`"]
async fn identify_is_grouped_by_where_the_customer_is_and_the_field_has_focus() {
    let desk = Desk::open().await.unwrap();
    let groups = desk
        .js("return [...document.querySelectorAll('#identify-methods .method-group')].map(g => [g.querySelector('.group-title').textContent, [...g.querySelectorAll('input')].map(i => i.value)])")
        .await
        .unwrap();
    let groups = groups.as_array().unwrap();
    let titles: Vec<&str> = groups.iter().map(|g| g[0].as_str().unwrap()).collect();
    assert_eq!(titles.len(), 4, "{groups:?}");
    assert_eq!(titles[0], "On the phone");
    assert!(titles[3].starts_with("Legacy"), "{titles:?}");
    let phone: Vec<&str> = groups[0][1]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // Norway first (the Training profile's countries), Sweden after.
    assert_eq!(phone, ["nbid_safe_conversation", "ciba", "sbid_phone"]);
    assert!(
        groups[1][1].to_string().contains("sbid_idcard"),
        "{groups:?}"
    );
    // Retired methods say so, with the date and what to use instead.
    let legacy = desk
        .js("return document.querySelector('.group-legacy').textContent")
        .await
        .unwrap();
    assert!(
        legacy
            .as_str()
            .unwrap()
            .contains("Retired in production since 2024-09-01"),
        "{legacy}"
    );
    // An agent can type at once.
    assert_eq!(
        desk.js("return document.activeElement.id").await.unwrap(),
        json!("auth-nin")
    );
    desk.screenshot("identify-groups").await.unwrap();
    desk.close().await;
}

#[tokio::test]
#[ignore = "needs the built app, tauri-driver and a display: run `make e2e`"]
async fn swedish_bankid_phone_asks_who_called_shows_the_intention_and_a_declined_call_stops_retries(
) {
    let desk = Desk::open().await.unwrap();
    desk.click("input[value='sbid_phone']").await.unwrap();
    desk.fill("#auth-nin", SE_INTERACTIVE).await.unwrap();
    desk.click("#identify-start").await.unwrap();
    let refused = desk
        .wait_text(
            "#identify-form [data-error-for='call_initiator']",
            WAIT,
            |t| !t.is_empty(),
        )
        .await
        .unwrap();
    assert!(refused.contains("who called whom"), "{refused}");
    assert_eq!(
        flow_count(&desk).await,
        0,
        "nothing sent before staff chose"
    );

    // The intention text is shown to staff before sending.
    desk.js("const s = document.getElementById('auth-intention'); s.value = '0'; s.dispatchEvent(new Event('change')); return true")
        .await
        .unwrap();
    let preview = desk
        .wait_text(".intention-preview", WAIT, |t| {
            t.contains("customer service")
        })
        .await
        .unwrap();
    assert!(preview.contains("The customer will read"), "{preview}");
    desk.click("#identify-form input[name='call_initiator'][value='rp']")
        .await
        .unwrap();
    desk.click("#identify-start").await.unwrap();
    // Focus follows the order to its card (issue 24): the words to read and Cancel are there.
    desk.wait_for_css(".flow-card", WAIT).await.unwrap();
    assert_eq!(
        desk.js("return document.activeElement.classList.contains('flow-card')")
            .await
            .unwrap(),
        json!(true)
    );

    // The training phone asks "are you in a call?", with the intention; the customer says yes.
    desk.wait_for_css(".phone-session .sim-approve", WAIT)
        .await
        .unwrap();
    let asked = desk
        .wait_text(".phone-session", WAIT, |t| t.contains("customer service"))
        .await
        .unwrap();
    assert!(asked.contains("in a call"), "{asked}");
    desk.screenshot("identify-sbid-phone").await.unwrap();
    desk.click(".phone-session .sim-approve").await.unwrap();
    let card = wait_card(&desk, "succeeded").await;
    assert!(card.contains("BankID risk indication"), "{card}");
    assert!(card.contains("low"), "{card}");

    // Another caller says they are not in a call: the outcome says not to retry, and Send
    // refuses to push again.
    desk.click("#tab-identify").await.unwrap();
    desk.fill("#auth-nin", SE_INTERACTIVE_2).await.unwrap();
    desk.click("#identify-form input[name='call_initiator'][value='user']")
        .await
        .unwrap();
    desk.click("#identify-start").await.unwrap();
    desk.wait_for_css(".phone-session .sim-decline", WAIT)
        .await
        .unwrap();
    desk.click(".phone-session .sim-decline").await.unwrap();
    let failed = wait_card(&desk, "failed").await;
    assert!(failed.contains("do not retry"), "{failed}");
    let before = flow_count(&desk).await;
    desk.click("#identify-form input[name='call_initiator'][value='user']")
        .await
        .unwrap();
    desk.click("#identify-start").await.unwrap();
    let error = desk
        .wait_text("#identify-error", WAIT, |t| t.contains("fraud routine"))
        .await
        .unwrap();
    assert!(error.contains("do not send again"), "{error}");
    assert_eq!(flow_count(&desk).await, before, "nothing sent again");
    let sessions = desk.invoke("sim_sessions", json!({})).await.unwrap();
    assert_eq!(sessions.as_array().unwrap().len(), 2, "{sessions}");
    desk.close().await;
}

#[tokio::test]
#[ignore = "needs the built app, tauri-driver and a display: run `make e2e`"]
async fn a_screen_pop_link_fills_the_form_and_sends_nothing() {
    let desk = Desk::open().await.unwrap();
    let link = format!("id-desk://identify?method=nbid&nin={NO_INTERACTIVE}&call=inbound");
    let status = desk.start_again(&[&link]).unwrap();
    assert!(
        status.success(),
        "the second start hands over and exits: {status}"
    );
    desk.wait_text("#identify-note", WAIT, |t| t.contains("phone system"))
        .await
        .unwrap();
    let form = desk
        .js("return [document.querySelector(\"input[name='auth-method']:checked\").value, document.getElementById('auth-nin').value, document.querySelector(\"input[name='call_initiator']\").checked, document.querySelector('#identify-form .claim')?.dataset.claim ?? null]")
        .await
        .unwrap();
    // The link's "inbound" is shown as the phone system's claim; the attestation stays unticked
    // for the agent to confirm (review N-5).
    assert_eq!(
        form,
        json!(["nbid_safe_conversation", NO_INTERACTIVE, false, "inbound"])
    );
    // Send without confirming: refused on the field, nothing sent.
    desk.click("#identify-form button[type='submit']")
        .await
        .unwrap();
    let refused = desk
        .wait_text(
            "#identify-form [data-error-for='call_initiator']",
            WAIT,
            |t| !t.is_empty(),
        )
        .await
        .unwrap();
    assert!(refused.contains("call_initiator"), "{refused}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(flow_count(&desk).await, 0, "a link never sends");
    assert_eq!(
        desk.invoke("sim_sessions", json!({})).await.unwrap(),
        json!([])
    );

    // A form the agent has typed in is replaced only when they agree.
    desk.fill("#auth-nin", "29124815345").await.unwrap();
    desk.js("window.confirm = () => false; return true")
        .await
        .unwrap();
    desk.start_again(&["id-desk://identify?method=sbid-phone&nin=19830406-2717"])
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        desk.js("return document.getElementById('auth-nin').value")
            .await
            .unwrap(),
        json!("29124815345"),
        "kept what the agent typed"
    );
    // A bad number in a link is named in the field, like typed input.
    desk.js("window.confirm = () => true; return true")
        .await
        .unwrap();
    desk.start_again(&["id-desk://identify?method=sbid-phone&nin=19830406-2718"])
        .unwrap();
    let error = desk
        .wait_text("#identify-form [data-error-for='nin']", WAIT, |t| {
            !t.is_empty()
        })
        .await
        .unwrap();
    assert!(error.starts_with("nin"), "{error}");
    assert_eq!(
        desk.js("return document.querySelector(\"input[name='auth-method']:checked\").value")
            .await
            .unwrap(),
        json!("sbid_phone")
    );
    assert_eq!(flow_count(&desk).await, 0);
    desk.screenshot("identify-screen-pop").await.unwrap();
    desk.close().await;
}

/// The pid of a process running `exe` with `XDG_DATA_HOME=data` in its environment.
fn desk_process(exe: &Path, data: &Path) -> Option<u32> {
    let want_env = format!("XDG_DATA_HOME={}", data.display());
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let dir = entry.path();
            if std::fs::read_link(dir.join("exe")).ok()? != exe {
                return None;
            }
            let env = std::fs::read(dir.join("environ")).ok()?;
            env.split(|b| *b == 0)
                .any(|v| v == want_env.as_bytes())
                .then_some(pid)
        })
}

/// Stops the desk a test started outside WebDriver, whatever the test's outcome.
struct Stop(u32);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.to_string()).status();
    }
}

#[test]
#[ignore = "needs the built app and a display: run `make e2e`"]
fn a_desk_started_by_a_link_keeps_no_number_in_its_command_line() {
    let exe: PathBuf = binary("IDDESK_APP", "id-desk").canonicalize().unwrap();
    let home = tempfile::tempdir().unwrap();
    let link = format!("id-desk://identify?method=nbid&nin={NO_INTERACTIVE}&call=inbound");
    let mut first = Command::new(&exe)
        .arg(&link)
        .envs(app_dirs(home.path()))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let first_pid = first.id();
    let limit = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = first.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < limit,
            "the desk started by the link never handed over"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");

    // The desk that stays was started by the first without the link (review N-4).
    let data = home.path().join("data");
    let desk = loop {
        if let Some(pid) = desk_process(&exe, &data) {
            break pid;
        }
        assert!(
            Instant::now() < limit,
            "no desk kept running after the hand-over"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let _stop = Stop(desk);
    assert_ne!(desk, first_pid);
    let cmdline = std::fs::read(format!("/proc/{desk}/cmdline")).unwrap();
    assert!(
        !String::from_utf8_lossy(&cmdline).contains("id-desk:"),
        "{}",
        String::from_utf8_lossy(&cmdline)
    );
    // It has the link all the same: its log says it received one.
    let logs = data.join("id-desk").join("logs");
    loop {
        let text: String = std::fs::read_dir(&logs)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect();
        if text.contains("screen-pop link received") {
            assert!(!text.contains(NO_INTERACTIVE), "the number reached the log");
            break;
        }
        assert!(
            Instant::now() < limit,
            "the desk never received the link:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // No process on this machine carries the number in its command line.
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            assert!(
                !String::from_utf8_lossy(&cmdline).contains(NO_INTERACTIVE),
                "process {:?} has the number in its command line",
                entry.file_name()
            );
        }
    }
}

#[tokio::test]
#[ignore = "needs the built app, tauri-driver and a display: run `make e2e`"]
async fn an_id_card_scanned_into_the_field_is_verified_at_the_counter() {
    let desk = Desk::open().await.unwrap();
    desk.click("input[value='sbid_idcard']").await.unwrap();
    // The customer's BankID app shows its ID card (the training phone makes a fresh code)...
    let code = desk
        .invoke("sim_idcard", json!({"nin": "198304062717"}))
        .await
        .unwrap();
    let code = code.as_str().unwrap().to_string();
    assert!(code.starts_with("BANKIDF."), "{code}");
    // ...and the scanner types it into the focused field, ending with Enter (which sends).
    desk.fill("#auth-qr_data", &format!("{code}\u{E007}"))
        .await
        .unwrap();
    let card = wait_card(&desk, "succeeded").await;
    assert!(card.contains("Anna Andersson"), "{card}");
    assert!(card.contains("1983*******"), "{card}");
    assert!(!card.contains("198304062717"), "{card}");
    // The field is empty and focused for the next customer: a code is used once.
    assert_eq!(
        desk.js("return document.activeElement.id").await.unwrap(),
        json!("auth-qr_data")
    );
    assert_eq!(
        desk.js("return document.getElementById('auth-qr_data').value")
            .await
            .unwrap(),
        json!("")
    );
    // Half a scan never leaves the desk.
    desk.fill("#auth-qr_data", "BANKIDF.\u{E007}")
        .await
        .unwrap();
    desk.wait_text("#identify-form [data-error-for='qr_data']", WAIT, |t| {
        t.contains("scan")
    })
    .await
    .unwrap();
    assert_eq!(flow_count(&desk).await, 1);
    desk.screenshot("identify-idcard").await.unwrap();
    desk.close().await;
}
