// The signed-in person for the staff pages: who it is, its CSRF token for changes, and signing out.
"use strict";

const session = {
  me: null,
  async load() {
    const response = await fetch("/auth/me", { credentials: "same-origin" });
    if (response.status === 401) { location.assign(`/login?next=${encodeURIComponent(location.pathname)}`); return null; }
    session.me = await response.json();
    return session.me;
  },
  async post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": session.me.csrf_token },
      body: JSON.stringify(body ?? {}),
    });
  },
  async signOut() {
    await session.post("/auth/logout");
    location.assign("/login");
  },
};
window.helplineSession = session;
