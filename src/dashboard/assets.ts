/** The dashboard's stylesheet and script, served from its own path so the CSP can forbid inline code. */

export const STYLESHEET = `
:root { --fg:#1d2330; --muted:#667085; --line:#e3e7ee; --bg:#f7f8fa; --card:#fff; --accent:#2f5fd0;
  --pending:#b7791f; --succeeded:#2f855a; --failed:#c53030; --expired:#718096; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; flex-wrap:wrap; gap:.5rem 1.5rem; align-items:center; padding:.75rem 1.5rem; background:#111827; color:#fff; }
header nav { display:flex; gap:1rem; flex-wrap:wrap; }
header .live { margin-left:auto; color:#cbd5e1; font-size:.85rem; display:flex; gap:.3rem; align-items:center; }
header .live input { padding:0; }
header a { color:#cbd5e1; text-decoration:none; } header a[aria-current] { color:#fff; font-weight:600; }
header .brand { font-weight:700; color:#fff; margin-right:1rem; }
main { padding:1.25rem 1.5rem; max-width:1400px; min-width:0; }
.table-wrap { overflow-x:auto; max-width:100%; border:1px solid var(--line); border-radius:6px; }
.table-wrap table { border:0; }
@media (max-width: 640px) {
  header, main { padding-left:.75rem; padding-right:.75rem; }
  form.filters input[size] { width:10rem; }
}
h1 { font-size:1.35rem; margin:.25rem 0 1rem; } h2 { font-size:1.05rem; margin:1.5rem 0 .5rem; }
a { color:var(--accent); }
.cards { display:flex; flex-wrap:wrap; gap:.75rem; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:.75rem 1rem; min-width:10rem; }
.card .n { font-size:1.6rem; font-weight:650; display:block; } .card .label { color:var(--muted); }
table { border-collapse:collapse; width:100%; background:var(--card); border:1px solid var(--line); }
th, td { text-align:left; padding:.4rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#f1f3f7; font-weight:600; white-space:nowrap; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td time { white-space:nowrap; }
td.error { max-width:14rem; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; color:var(--failed); }
.status { display:inline-block; padding:0 .45rem; border-radius:999px; font-size:.8rem; font-weight:600; color:#fff; }
.status-pending { background:var(--pending); } .status-succeeded { background:var(--succeeded); }
.status-failed { background:var(--failed); } .status-expired { background:var(--expired); }
form.filters { display:flex; flex-wrap:wrap; gap:.5rem .75rem; align-items:flex-end; background:var(--card);
  border:1px solid var(--line); border-radius:8px; padding:.75rem; margin-bottom:1rem; }
form.filters label { display:flex; flex-direction:column; font-size:.8rem; color:var(--muted); }
input, select, button { font:inherit; padding:.3rem .45rem; border:1px solid #c7ccd6; border-radius:5px; background:#fff; }
button { cursor:pointer; background:#eef2fb; } button.danger { background:#fdecec; border-color:#e9b3b3; }
.actions { display:flex; gap:.5rem; flex-wrap:wrap; align-items:center; margin:.75rem 0; }
.notice, .problem { padding:.6rem .9rem; border-radius:6px; margin:.75rem 0; border:1px solid; }
.notice { background:#eef7f0; border-color:#b7dfc0; } .problem { background:#fdf3e7; border-color:#efcf9f; }
dl.fields { display:grid; grid-template-columns:max-content 1fr; gap:.35rem 1rem; background:var(--card);
  border:1px solid var(--line); border-radius:8px; padding:1rem; }
dl.fields dt { color:var(--muted); } dl.fields dd { margin:0; word-break:break-all; }
pre { background:#0f172a; color:#e2e8f0; padding:.75rem; border-radius:6px; overflow:auto; white-space:pre-wrap; word-break:break-word; }
.muted { color:var(--muted); }
table.run-errors { table-layout:fixed; }
table.run-errors th:nth-child(1) { width:3.5rem; }
table.run-errors tr[data-run] td { border-bottom:0; font-weight:600; }
table.run-errors pre { margin:0; max-height:16rem; font-size:.85rem; }
.chart { display:block; max-width:960px; height:auto; background:var(--card); border:1px solid var(--line); border-radius:8px; padding:.5rem; }
.legend span { margin-right:1rem; } .swatch { display:inline-block; width:.8rem; height:.8rem; border-radius:2px; vertical-align:middle; }
.swatch-succeeded { background:var(--succeeded); } .swatch-failed { background:var(--failed); } .swatch-expired { background:var(--expired); }
.pager { margin:.75rem 0; display:flex; gap:1rem; }
`;

/** Progressive enhancement only: every page reads and every action works without it. */
export const SCRIPT = `
(function () {
  // Opt-in live refresh: reloads every 5 s while the box is ticked (remembered in this browser), unless
  // someone is filling a form or has ticked attempts to act on.
  var KEY = 'async-task-dashboard-live';
  var box = document.querySelector('input[data-live-refresh]');
  if (!box) return;
  var on = false;
  try { on = window.localStorage.getItem(KEY) === '1'; } catch (error) {}
  box.checked = on;
  box.addEventListener('change', function () {
    try { window.localStorage.setItem(KEY, box.checked ? '1' : '0'); } catch (error) {}
    if (box.checked) schedule();
  });
  function busy() {
    var active = document.activeElement;
    if (active && active !== box && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) return true;
    return document.querySelector('input[name="id"]:checked') !== null;
  }
  function schedule() {
    setTimeout(function () {
      if (!box.checked) return;
      if (busy()) return schedule();
      window.location.reload();
    }, 5000);
  }
  if (on) schedule();
})();
document.addEventListener('change', function (event) {
  var box = event.target;
  if (!box.matches || !box.matches('input[data-select-all]')) return;
  var form = box.form;
  if (!form) return;
  form.querySelectorAll('input[name="id"]').forEach(function (other) { other.checked = box.checked; });
});
document.addEventListener('submit', function (event) {
  var button = event.submitter;
  var message = button && button.getAttribute('data-confirm');
  if (message && !window.confirm(message)) event.preventDefault();
});
`;
