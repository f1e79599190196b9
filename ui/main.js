const invoke = (cmd, args) => window.__TAURI_INTERNALS__.invoke(cmd, args);
const info = await invoke('app_info');
document.getElementById('training-banner').hidden = !info.training;
