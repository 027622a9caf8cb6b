// The agent's own reviews on the desk: what supervisors scored on their calls, newest first.
"use strict";

(async () => {
  const response = await fetch("/desk/api/reviews", { credentials: "same-origin" });
  if (!response.ok) return;
  const { reviews } = await response.json();
  const body = document.getElementById("my-reviews");
  body.replaceChildren(...reviews.map((review) => {
    const row = document.createElement("tr");
    const missed = Object.entries(review.checks).filter(([, passed]) => !passed).map(([check]) => check);
    for (const value of [new Date(review.at * 1000).toISOString().slice(0, 16).replace("T", " "), review.call_id,
      review.reviewer, `${review.score} / 100`, missed.join(", ") || "-", review.comments || "-"]) {
      const cell = document.createElement("td"); cell.textContent = value; row.appendChild(cell);
    }
    return row;
  }));
})();
