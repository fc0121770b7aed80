// greenfleet dashboard: refreshes [data-live] regions in place, sends deployment commands and registry decisions.
"use strict";

const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;

function signInAgain() {
  window.location.assign("/ui/login?next=" + encodeURIComponent(window.location.pathname));
}

// A keyboard user's focus survives a refresh: the element with the same id, or link target, gets it back.
function focusKey(region, element = document.activeElement) {
  if (!element || element === region || !region.contains(element)) return null;
  const key = element.id || element.getAttribute("href") || element.dataset.command || element.textContent;
  return { tag: element.tagName.toLowerCase(), key };
}

async function refresh(region) {
  if (document.hidden) return;
  const response = await fetch(region.dataset.live, { headers: { Accept: "*/*" }, credentials: "same-origin" });
  if (response.status === 401) return signInAgain();
  if (!response.ok) return;
  const html = await response.text();
  const focused = focusKey(region);
  region.innerHTML = html;
  if (focused) {
    const again = [...region.querySelectorAll(focused.tag)].find((e) => focusKey(region, e)?.key === focused.key);
    if (again) again.focus();
  }
  region.dispatchEvent(new CustomEvent("live-updated", { bubbles: true }));
}

function startLiveRegions() {
  for (const region of document.querySelectorAll("[data-live]")) {
    const every = Number(region.dataset.interval || 2000);
    let busy = false;
    region.refreshNow = async () => {
      if (busy) return;
      busy = true;
      try { await refresh(region); } catch (error) { /* the next tick tries again */ } finally { busy = false; }
    };
    window.setInterval(region.refreshNow, every);
  }
}

// --- changes with a reason ----------------------------------------------------------------------
// Sends a change from this page (same origin, with the session's CSRF token): the answer, or {error}.
async function send(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify(body),
  });
  if (response.status === 401) { signInAgain(); return { error: "Sign in again." }; }
  const answer = await response.json().catch(() => ({}));
  return response.ok ? answer : { error: answer.message || ("Refused: HTTP " + response.status) };
}

// The page's dialog "<prefix>-dialog" asks for a reason, then sends {...body, Reason} to url. Returns
// ask({title, label, url, body, opener, done}); focus goes back to the opener (or its new copy, by id).
function reasonDialog(prefix) {
  const dialog = document.getElementById(prefix + "-dialog");
  if (!dialog) return null;
  const part = (name) => document.getElementById(prefix + "-" + name);
  const reason = part("reason");
  const error = part("error");
  let request = null;
  const refocus = () => {
    if (!request) return;
    const opener = request.opener.isConnected ? request.opener : document.getElementById(request.opener.id);
    if (opener) opener.focus();
  };
  dialog.addEventListener("close", refocus);
  part("cancel").addEventListener("click", () => dialog.close());
  part("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!reason.value.trim()) { error.textContent = "A reason is required."; reason.focus(); return; }
    const answer = await send(request.url, { ...request.body, Reason: reason.value.trim() });
    if (answer.error) { error.textContent = answer.error; return; }
    dialog.close();
    request.done(answer);
  });
  return (wanted) => {
    request = wanted;
    part("title").textContent = wanted.title;
    part("submit").textContent = wanted.label;
    reason.value = "";
    error.textContent = "";
    dialog.showModal();
    reason.focus();
  };
}

function refreshLive(id) {
  const live = document.getElementById(id);
  if (live && live.refreshNow) live.refreshNow();
}

// --- deployment commands -------------------------------------------------------------------------
function syncCommandButtons() {
  const root = document.querySelector("#deployment-live .live-root");
  if (!root) return;
  const active = root.dataset.active === "true";
  const paused = root.dataset.paused === "true";
  for (const button of document.querySelectorAll("button[data-command]")) {
    const command = button.dataset.command;
    button.disabled = !active || (command === "pause" && paused) || (command === "resume" && !paused);
    button.classList.toggle("attention", active && command === "approve" && root.dataset.phase === "AWAITING_APPROVAL");
  }
}

function startCommands() {
  const ask = reasonDialog("command");
  if (!ask) return;
  const status = document.getElementById("command-status");
  for (const button of document.querySelectorAll("button[data-command]")) {
    button.addEventListener("click", () => {
      const label = button.textContent.trim();
      ask({
        title: label + " this deployment", label, opener: button, body: {},
        url: "/ui/endpoints/" + encodeURIComponent(button.dataset.endpoint) + "/deployment/" + button.dataset.command,
        done: (answer) => {
          status.textContent = answer.Kind + " sent (command " + answer.CommandId + "); the rollout acts on it at its next tick.";
          refreshLive("deployment-live");
        },
      });
    });
  }
  document.addEventListener("live-updated", syncCommandButtons);
  syncCommandButtons();
}

// --- model registry: approve or reject a version ------------------------------------------------
function startDecisions() {
  const ask = reasonDialog("decision");
  if (!ask) return;
  const status = document.getElementById("decision-status");
  // The buttons live in refreshed regions: one listener on the document serves the current ones.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-decision]");
    if (!button || button.disabled) return;
    const { group, version, decision } = button.dataset;
    const label = button.textContent.trim();
    ask({
      title: label + " " + group + " version " + version, label, opener: button, body: { Status: decision },
      url: "/ui/registry/" + encodeURIComponent(group) + "/" + encodeURIComponent(version) + "/decision",
      done: (answer) => {
        const bound = answer.BoundEndpoints || [];
        status.textContent = group + " version " + version + " is now " + answer.ModelApprovalStatus + "." +
          (bound.length ? " Bound endpoint(s) " + bound.join(", ") + " follow it through their guardrail."
                        : " No endpoint is bound to " + group + ".");
        refreshLive("registry-live");
      },
    });
  });
}

startLiveRegions();
startCommands();
startDecisions();
