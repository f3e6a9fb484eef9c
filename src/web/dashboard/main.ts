import type { StatusSnapshot } from "../../api/status-types.ts";
import type { ClusterEvent } from "../../observability/event-log.ts";
import { byId, clock } from "./dom.ts";
import { render, renderEvents, renderTypeFilter } from "./render.ts";
import { AuthError, call, endSession, hasSession, signIn } from "./session.ts";
import { freshView, ingest, type View } from "./view.ts";

/**
 * The dashboard page's script: the sign-in form, then a poll of this node's status and events every
 * second while the dashboard shows. Bundled into one script that the page carries inline.
 */

const POLL_MS = 1000;

let view: View | null = null;
let timer: ReturnType<typeof setTimeout> | null = null;

const loginForm = byId<HTMLFormElement>("login-form");
const passwordInput = loginForm.elements.namedItem("password") as HTMLInputElement;
const usernameInput = loginForm.elements.namedItem("username") as HTMLInputElement;

function stop(): void {
  if (timer !== null) clearTimeout(timer);
  timer = null;
}

function showLogin(message: string): void {
  stop();
  endSession();
  byId("dashboard").hidden = true;
  byId("logout").hidden = true;
  byId("banner").hidden = true;
  byId("login").hidden = false;
  byId("login-error").textContent = message;
  passwordInput.focus();
}

function showDashboard(): void {
  byId("login").hidden = true;
  byId("dashboard").hidden = false;
  byId("logout").hidden = false;
  view = freshView();
  stop();
  void tick();
}

async function tick(): Promise<void> {
  timer = null;
  try {
    const status = await call<StatusSnapshot>("GET", "/v1/status");
    const started = status.daemon?.startedAt ?? null;
    // A restarted daemon numbers its events from 1 again: start over.
    if (view === null || (view.startedAt !== null && started !== view.startedAt)) view = freshView();
    view.startedAt = started;
    view.status = status;
    const answer = await call<{ events?: ClusterEvent[] }>("POST", "/v1/events", { since: view.lastSeq });
    ingest(view, answer.events ?? []);
    render(view, status);
    byId("banner").hidden = true;
    byId("updated").textContent = `live \u00b7 updated ${clock(new Date().toISOString()).slice(0, 8)}`;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof AuthError) {
      showLogin(`Session ended (${message}); sign in again.`);
      return;
    }
    const banner = byId("banner");
    banner.hidden = false;
    banner.textContent = `Cannot reach this node's daemon: ${message} (retrying every second)`;
  }
  if (view !== null && !byId("dashboard").hidden) timer = setTimeout(() => void tick(), POLL_MS);
}

loginForm.addEventListener("submit", (event) => {
  event.preventDefault();
  byId("login-error").textContent = "";
  signIn(usernameInput.value, passwordInput.value).then(
    () => {
      passwordInput.value = "";
      showDashboard();
    },
    (error: unknown) => {
      byId("login-error").textContent = error instanceof Error ? error.message : String(error);
    },
  );
});

byId("logout").addEventListener("click", () => showLogin(""));

renderTypeFilter(() => {
  if (view !== null) renderEvents(view);
});
if (hasSession()) showDashboard();
else showLogin("");
