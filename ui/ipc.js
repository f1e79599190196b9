// The only bridge to Rust. The webview never talks to the network: every HTTP call happens in Rust.
const tauri = window.__TAURI__;

// A start-up failure must be visible (to staff and to the end-to-end suite), never a blank form.
for (const type of ['error', 'unhandledrejection']) {
  window.addEventListener(type, (e) => {
    const reason = e.reason ?? e.error ?? e.message;
    window.__bootError = reason?.message ?? (typeof reason === 'string' ? reason : JSON.stringify(reason));
  });
}

/** Calls a command; rejects with the engine's `{code, message, field?}`. */
export async function call(cmd, args = {}) {
  try {
    return await tauri.core.invoke(cmd, args);
  } catch (err) {
    if (err && typeof err === 'object' && 'code' in err) throw err;
    throw { code: 'internal', message: String(err) };
  }
}

/** Subscribes to an app event; returns the unlisten function. */
export function on(event, handler) {
  return tauri.event.listen(event, (e) => handler(e.payload));
}
