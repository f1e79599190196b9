//! The redirect flow (issue 14) on the real app under Xvfb, over WebDriver: Training's simulator
//! serves the eID provider's page, the desk opens it in its sandboxed window, the test plays the
//! customer there (switching to that window's W3C handle), and the staff window shows the outcome
//! read from the session. The sandboxed window tries to call a command and must fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use id_desk_e2e::Desk;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

/// Starts a redirect flow with `provider` and switches to its window once the provider's page
/// has loaded; returns the main window's handle.
async fn start_and_switch(desk: &Desk, provider: &str) -> String {
    desk.click("#tab-identify").await.unwrap();
    desk.click(&format!("input[value='redirect:{provider}']"))
        .await
        .unwrap();
    // Nothing goes to a phone: the button says where it happens.
    let button = desk.wait_for_css("#identify-start", WAIT).await.unwrap();
    assert_eq!(button, "Open on this screen");
    desk.click("#identify-start").await.unwrap();
    let (main, sandboxed) = desk.wait_for_second_window(WAIT).await.unwrap();
    desk.client.switch_to_window(&sandboxed).await.unwrap();
    desk.wait_for_css("#abort", WAIT).await.unwrap();
    main
}

/// Presses a button of the provider's page. The press ends in the final redirect, which the
/// desk stops and answers by destroying the window, so WebDriver may report the window gone.
async fn press(desk: &Desk, main: &str, css: &str) {
    let _ = desk.click(css).await;
    desk.wait_for_windows(1, WAIT).await.unwrap();
    desk.client.switch_to_window(main).await.unwrap();
}

/// No IPC object at all, or Tauri's ACL refusing the call (not a timeout or a script error,
/// which would prove nothing).
fn refused_by_the_acl(tried: &Value) -> bool {
    tried.get("absent").is_some()
        || tried["err"]
            .as_str()
            .is_some_and(|e| e.contains("not allowed on window \"redirect-"))
}

/// The page in the current window tries the app's IPC (`app_info`); what came back.
async fn call_app_info(desk: &Desk) -> Value {
    let script = "const done = arguments[arguments.length - 1];\
        const ipc = window.__TAURI_INTERNALS__;\
        if (!ipc || typeof ipc.invoke !== 'function') { done({ absent: true }); return; }\
        try {\
          ipc.invoke('app_info', {}).then((v) => done({ ok: v }), (e) => done({ err: String(e) }));\
        } catch (e) { done({ err: String(e) }); }\
        setTimeout(() => done({ err: 'no answer' }), 3000);";
    desk.client.execute_async(script, vec![]).await.unwrap()
}

async fn outcome(desk: &Desk) -> String {
    let css = ".flow-card:not([data-state='running'])";
    desk.wait_for_css(css, WAIT).await.unwrap();
    let v = desk
        .js("return document.querySelector('.flow-card').dataset.state")
        .await
        .unwrap();
    v.as_str().unwrap_or_default().to_string()
}

#[tokio::test]
#[ignore = "needs the built app, tauri-driver and a display: run `make e2e`"]
async fn a_mitid_persona_succeeds_through_the_sandboxed_window_which_can_call_no_command() {
    let desk = Desk::open().await.unwrap();
    let main = start_and_switch(&desk, "mitid").await;

    // The provider's page, from Training's simulator on loopback.
    let here = desk.js("return location.href").await.unwrap();
    let here = here.as_str().unwrap_or_default();
    assert!(here.starts_with("http://127.0.0.1:"), "{here}");
    assert!(here.contains("/redirect/"), "{here}");

    // The page tries the app's IPC: there is nothing to call, or the call is refused.
    let tried = call_app_info(&desk).await;
    eprintln!("app_info from the sandboxed window: {tried}");
    assert!(
        refused_by_the_acl(&tried),
        "the sandboxed window called app_info: {tried}"
    );
    // Nor can it listen to the staff events.
    let listen = "const done = arguments[arguments.length - 1];\
        const ipc = window.__TAURI_INTERNALS__;\
        if (!ipc || typeof ipc.invoke !== 'function') { done({ absent: true }); return; }\
        try {\
          ipc.invoke('plugin:event|listen', { event: 'flow://event', target: { kind: 'Any' }, handler: 1 })\
            .then((v) => done({ ok: v }), (e) => done({ err: String(e) }));\
        } catch (e) { done({ err: String(e) }); }\
        setTimeout(() => done({ err: 'no answer' }), 3000);";
    let tried: Value = desk.client.execute_async(listen, vec![]).await.unwrap();
    eprintln!("listen from the sandboxed window: {tried}");
    assert!(
        refused_by_the_acl(&tried),
        "the sandboxed window listened to flow://event: {tried}"
    );
    let _ = desk
        .screenshot_of("ID Desk - identify on this screen", "redirect-mitid")
        .await;

    press(&desk, &main, "#approve-lars").await;
    assert_eq!(outcome(&desk).await, "succeeded");
    let name = desk
        .wait_for_css(".flow-card .result .name", WAIT)
        .await
        .unwrap();
    assert_eq!(name, "Lars Jensen");
    let method = desk
        .wait_for_css(".flow-card .flow-method", WAIT)
        .await
        .unwrap();
    assert_eq!(method, "MitID (Denmark)");
    let _ = desk.screenshot("redirect-result").await;
    desk.close().await;
}

#[tokio::test]
#[ignore = "needs the built app, tauri-driver and a display: run `make e2e`"]
async fn abort_on_the_providers_page_is_cancelled_and_an_error_is_failed() {
    let desk = Desk::open().await.unwrap();
    let main = start_and_switch(&desk, "mitid").await;
    press(&desk, &main, "#abort").await;
    assert_eq!(outcome(&desk).await, "cancelled");
    desk.click(".flow-card .dismiss").await.unwrap();

    let main = start_and_switch(&desk, "ftn").await;
    press(&desk, &main, "#error").await;
    assert_eq!(outcome(&desk).await, "failed");
    let status = desk.wait_for_css(".flow-card .status", WAIT).await.unwrap();
    assert!(status.contains("identity provider"), "{status}");
    desk.close().await;
}

/// Issue 21: signing by link for a customer at the desk. The card shows the signing page as a QR
/// code and "Sign on this screen"; the page opens in the same sandboxed window as the redirect
/// flow (no IPC), the customer signs there, and the card shows the stored evidence.
#[tokio::test]
#[ignore = "needs the built app, tauri-driver and a display: run `make e2e`"]
async fn signing_by_link_on_this_screen_happens_in_the_sandboxed_window() {
    let desk = Desk::open().await.unwrap();
    desk.click("#tab-sign").await.unwrap();
    desk.click("input[value='sign-link:mitid']").await.unwrap();
    desk.fill("#sign-text", "I confirm my order of Medium500")
        .await
        .unwrap();
    // Staff pick the order summary, a PDF (set as a file chooser would).
    let picked = "const done = arguments[arguments.length - 1];\
        const bytes = new TextEncoder().encode('%PDF-1.4\\n% order summary Medium500\\n%%EOF\\n');\
        const dt = new DataTransfer();\
        dt.items.add(new File([bytes], 'order.pdf', { type: 'application/pdf' }));\
        const input = document.getElementById('sign-pdf');\
        input.files = dt.files;\
        input.dispatchEvent(new Event('change'));\
        setTimeout(() => done(input.files.length), 200);";
    let picked: Value = desk.client.execute_async(picked, vec![]).await.unwrap();
    assert_eq!(picked, serde_json::json!(1));
    desk.click("#sign-start").await.unwrap();
    desk.wait_for_css(".flow-card .qr svg", WAIT).await.unwrap();
    desk.wait_for_css(".flow-card .open-signing", WAIT)
        .await
        .unwrap();
    let _ = desk.screenshot("sign-link-qr").await;
    desk.click(".flow-card .open-signing").await.unwrap();
    let (main, sandboxed) = desk.wait_for_second_window(WAIT).await.unwrap();
    desk.client.switch_to_window(&sandboxed).await.unwrap();
    let text = desk.wait_for_css("pre", WAIT).await.unwrap();
    assert!(text.contains("Medium500"), "{text}");
    let page = desk.js("return document.body.textContent").await.unwrap();
    assert!(
        page.as_str().unwrap_or_default().contains("PDF document"),
        "{page}"
    );
    let here = desk.js("return location.href").await.unwrap();
    assert!(
        here.as_str().unwrap_or_default().contains("/sign/ui/"),
        "{here}"
    );
    let tried = call_app_info(&desk).await;
    assert!(
        refused_by_the_acl(&tried),
        "the signing window called app_info: {tried}"
    );
    desk.fill("input[name='nin']", "29124815345").await.unwrap();
    let _ = desk
        .screenshot_of("ID Desk - sign on this screen", "sign-link-window")
        .await;
    // The desk closes the window once the flow has its evidence.
    let _ = desk.click("button[value='sign']").await;
    desk.wait_for_windows(1, WAIT).await.unwrap();
    desk.client.switch_to_window(&main).await.unwrap();
    assert_eq!(outcome(&desk).await, "signed");
    let result = desk
        .wait_text(".flow-card .result", WAIT, |t| t.contains("Evidence saved"))
        .await
        .unwrap();
    assert!(result.contains("Kari Nordmann"), "{result}");
    assert!(
        result.contains("xades") && result.contains("pades") && result.contains("ltv_sdo"),
        "{result}"
    );
    desk.close().await;
}

/// Issue 23, item 10: nothing of one customer reaches the next. One flow at a time runs on this
/// screen (a second one is `already_running`), and what the first customer's provider page stored
/// (a cookie, local storage) is gone when the next customer's window opens.
#[tokio::test]
#[ignore = "needs the built app, tauri-driver and a display: run `make e2e`"]
async fn each_redirect_window_starts_with_nothing_of_the_previous_customer() {
    let desk = Desk::open().await.unwrap();
    let main = start_and_switch(&desk, "mitid").await;
    desk.js("document.cookie = 'customer=kari; path=/; max-age=3600'; \
         localStorage.setItem('customer', 'kari'); return document.cookie")
        .await
        .unwrap();
    let seen = desk.js("return document.cookie").await.unwrap();
    assert!(
        seen.as_str().unwrap_or_default().contains("customer=kari"),
        "{seen}"
    );

    // A second customer on this screen while the first is still there: refused, by name.
    desk.client.switch_to_window(&main).await.unwrap();
    let second = desk
        .invoke(
            "start_flow",
            serde_json::json!({"input": {"method": "redirect", "provider": "ftn"}}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(second.contains("already_running"), "{second}");

    // The first customer leaves (abort on the provider's page); the next one finds nothing.
    let first = desk
        .client
        .window_handles()
        .await
        .unwrap()
        .into_iter()
        .find(|h| *h != main)
        .unwrap();
    desk.client.switch_to_window(&first).await.unwrap();
    press(&desk, &main, "#abort").await;
    let _ = outcome(&desk).await;
    start_and_switch(&desk, "ftn").await;
    let here = desk
        .js("return [location.origin, document.cookie, localStorage.getItem('customer')]")
        .await
        .unwrap();
    let origin = here[0].as_str().unwrap_or_default();
    assert!(
        origin.starts_with("http://127.0.0.1:"),
        "same origin as the first: {here}"
    );
    assert_eq!(here[1], "", "a cookie of the first customer: {here}");
    assert_eq!(
        here[2],
        Value::Null,
        "local storage of the first customer: {here}"
    );
    desk.close().await;
}
