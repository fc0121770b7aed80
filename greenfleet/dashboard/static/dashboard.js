// greenfleet dashboard: refreshes [data-live] regions in place and sends deployment commands.
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
  const dialog = document.getElementById("command-dialog");
  if (!dialog) return;
  const form = document.getElementById("command-form");
  const reason = document.getElementById("command-reason");
  const error = document.getElementById("command-error");
  const status = document.getElementById("command-status");
  let pending = null;
  for (const button of document.querySelectorAll("button[data-command]")) {
    button.addEventListener("click", () => {
      pending = button;
      document.getElementById("command-title").textContent = button.textContent.trim() + " this deployment";
      document.getElementById("command-submit").textContent = button.textContent.trim();
      reason.value = "";
      error.textContent = "";
      dialog.showModal();
      reason.focus();
    });
  }
  document.getElementById("command-cancel").addEventListener("click", () => { dialog.close(); pending && pending.focus(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!reason.value.trim()) { error.textContent = "A reason is required."; reason.focus(); return; }
    const button = pending;
    const url = "/ui/endpoints/" + encodeURIComponent(button.dataset.endpoint) + "/deployment/" + button.dataset.command;
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({ Reason: reason.value.trim() }),
    });
    if (response.status === 401) return signInAgain();
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) { error.textContent = answer.message || ("Refused: HTTP " + response.status); return; }
    dialog.close();
    status.textContent = answer.Kind + " sent (command " + answer.CommandId + "); the rollout acts on it at its next tick.";
    button.focus();
    const live = document.getElementById("deployment-live");
    if (live && live.refreshNow) live.refreshNow();
  });
  document.addEventListener("live-updated", syncCommandButtons);
  syncCommandButtons();
}

startLiveRegions();
startCommands();
