//! How WebKitGTK renders the desk's page on Linux.
//!
//! The desk is one local page of forms that never navigates and never animates, and it often runs
//! where there is no GPU (thin clients, remote desktops, Xvfb in CI), so WebKit's GPU compositing
//! only pays Mesa's software GL: measured under Xvfb, it held 117 MiB more in the web process for
//! this page (230 MiB PSS against 113) and bought nothing visible. Painting straight into the
//! window also sidesteps the blank-window failures of that GPU path on some Linux drivers.
//! The document-viewer cache model drops the page and memory caches a browser keeps for
//! navigation.

use tauri::{Runtime, WebviewWindow};

pub fn tune<R: Runtime>(window: &WebviewWindow<R>) {
    #[cfg(target_os = "linux")]
    {
        let applied = window.with_webview(|platform| {
            use webkit2gtk::{
                CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
            };
            let view = platform.inner();
            if let Some(settings) = WebViewExt::settings(&view) {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
            if let Some(context) = view.context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
        });
        if let Err(e) = applied {
            tracing::warn!(error = %e, "webview rendering settings not applied");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}
