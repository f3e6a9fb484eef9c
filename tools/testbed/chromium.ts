/** Debian's chromium, driven by playwright-core in the dashboard tests (no browser download). */
export const CHROMIUM = "/usr/bin/chromium";

/** This machine has no internet: these keep chromium from trying to reach Google's services. */
export const QUIET_CHROMIUM = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
