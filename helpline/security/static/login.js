// Sign in, then go back to the page that asked (only a path on this site).
"use strict";

const next = new URLSearchParams(location.search).get("next") || "/desk";
const target = next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/desk";

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await fetch("/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: document.getElementById("username").value,
                           password: document.getElementById("password").value }),
  });
  const body = await response.json();
  if (!response.ok) { document.getElementById("login-error").textContent = body.message; return; }
  location.assign(target);
});
