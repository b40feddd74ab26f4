"""The dashboard: one static page served at ``/`` and ``/dashboard``.

It bootstraps from ``/api/meta`` (tenant name and key), then uses ``/api/stats``,
``/api/changes/recent``, ``/api/workspaces``, ``/api/projects``, ``/api/seed`` and
``/api/generate/start|stop`` — nothing else.
"""

from __future__ import annotations

from typing import Final

DASHBOARD_HTML: Final = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Acme</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; background: #111418; color: #e6e6e6;
         margin: 0; padding: 24px; }
  h1 { font-size: 20px; margin: 0 0 16px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr));
          gap: 16px; margin-bottom: 16px; }
  .card { background: #1b1f25; border: 1px solid #2a2f37; border-radius: 8px; padding: 16px; }
  .card h2 { font-size: 13px; text-transform: uppercase; color: #8b949e; margin: 0 0 12px; }
  code { background: #0d1014; padding: 4px 6px; border-radius: 4px; word-break: break-all; }
  button { background: #2f81f7; color: white; border: 0; border-radius: 6px; padding: 6px 12px;
           margin: 0 6px 6px 0; cursor: pointer; }
  .stats { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
  .stat b { display: block; font-size: 20px; }
  .pill { display: inline-block; padding: 2px 8px; border-radius: 10px; background: #30363d; }
  .pill.on { background: #238636; }
  table { width: 100%; border-collapse: collapse; }
  td, th { text-align: left; padding: 4px 8px; border-bottom: 1px solid #2a2f37; }
  .badge { padding: 1px 6px; border-radius: 4px; font-size: 12px; }
  .create { background: #238636; } .update { background: #9e6a03; }
  .delete { background: #da3633; }
</style>
</head>
<body>
<h1 id="title">Acme</h1>
<div class="grid">
  <div class="card"><h2>API Key</h2><code id="key">…</code>
    <p><button id="copy">Copy</button></p></div>
  <div class="card"><h2>Stats</h2><div class="stats" id="stats"></div></div>
  <div class="card"><h2>Controls</h2>
    <button id="new-workspace">New Workspace</button>
    <button id="new-project">New Project</button>
    <button id="seed">Seed Data</button>
    <button id="start">Start Generation</button>
    <button id="stop">Stop Generation</button>
    <p>Status: <span class="pill" id="status">Idle</span></p></div>
</div>
<div class="card"><h2>Recent Changes</h2><div id="changes"></div></div>
<script>
let key = "";
let timer = null;
const api = async (path, method = "GET", body) => {
  const response = await fetch(path, {
    method,
    headers: { "Authorization": "Bearer " + key, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) { alert(data.error || response.status); throw new Error(data.error); }
  return data;
};
const text = (value) => String(value).replace(/[&<>"]/g,
  (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
async function refresh() {
  const stats = await api("/api/stats");
  const names = ["workspaces", "users", "projects", "tasks", "files", "changelogSize"];
  const labels = ["Workspaces", "Users", "Projects", "Tasks", "Files", "Changes"];
  document.getElementById("stats").innerHTML = names.map((n, i) =>
    `<div class="stat"><b>${text(stats[n])}</b>${labels[i]}</div>`).join("");
  const status = document.getElementById("status");
  status.textContent = stats.generating ? "Generating" : "Idle";
  status.className = stats.generating ? "pill on" : "pill";
  const changes = await api("/api/changes/recent?limit=50");
  document.getElementById("changes").innerHTML = changes.length === 0
    ? "No changes yet. Seed some data to get started."
    : "<table><tr><th>#</th><th>Action</th><th>Type</th><th>Id</th><th>Time</th></tr>" +
      changes.map((e) => `<tr><td>${e.sequence}</td>` +
        `<td><span class="badge ${text(e.action)}">${text(e.action)}</span></td>` +
        `<td>${text(e.entityType)}</td><td>${text(e.entityId.slice(0, 20))}</td>` +
        `<td>${new Date(e.timestamp).toLocaleTimeString()}</td></tr>`).join("") + "</table>";
}
async function act(fn) { try { await fn(); } finally { await refresh(); } }
document.getElementById("copy").onclick = () => navigator.clipboard.writeText(key);
document.getElementById("new-workspace").onclick = () => act(() => api("/api/seed", "POST", {}));
document.getElementById("new-project").onclick = () => act(async () => {
  const workspaces = await api("/api/workspaces");
  if (workspaces.length === 0) { alert("No workspaces yet. Create a workspace first."); return; }
  await api("/api/seed", "POST",
    { workspaceId: workspaces[0].id, workspaces: 0, projectsPerWorkspace: 1 });
});
document.getElementById("seed").onclick = () => act(async () => {
  const projects = await api("/api/projects");
  if (projects.length === 0) { alert("No projects yet. Create a workspace first."); return; }
  await api("/api/seed", "POST", { existingOnly: true });
});
document.getElementById("start").onclick = () => act(async () => {
  await api("/api/generate/start", "POST", {});
  if (timer === null) { timer = setInterval(refresh, 2000); }
});
document.getElementById("stop").onclick = () => act(async () => {
  await api("/api/generate/stop", "POST");
  if (timer !== null) { clearInterval(timer); timer = null; }
});
(async () => {
  const meta = await (await fetch("/api/meta")).json();
  key = meta.apiKey;
  document.getElementById("key").textContent = key;
  document.title = "Acme — " + meta.tenant;
  document.getElementById("title").textContent = "Acme — " + meta.tenant;
  await refresh();
})();
</script>
</body>
</html>
"""
