// Pages for people who are not signed in (or just arriving): sign up, forgot and reset the password,
// confirm an email address, accept an invitation. Each form posts to the public API and says plainly
// what happened.
import { api, readable, show } from "./api.js";

const error = document.getElementById("form-error");
const done = document.getElementById("form-done");

// Runs `action` for the form's submit with its button disabled; a failure is shown in the form's own alert
// (the page's first one when the form has none).
function handle(form, action) {
  if (!form) return;
  const alert = form.querySelector("[role=alert]") || error;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    show(alert, "");
    try {
      await action();
    } catch (err) {
      show(alert, readable(err));
      submit.disabled = false;
    }
  });
}

const signup = document.getElementById("signup-form");
handle(signup, async () => {
  const email = signup.email.value.trim();
  const password = signup.password.value;
  if (!email || password.length < 8) {
    throw new Error(email ? "The password needs at least 8 characters." : "Enter your email.");
  }
  // on an invitation's way in, its token comes along: it confirms the address (and is needed where
  // accounts are made by invitation only)
  const next = signup.dataset.next || "/chat";
  const json = { email, password, name: signup.name.value.trim() };
  if (next.startsWith("/invitations/")) json.invitation_token = decodeURIComponent(next.slice("/invitations/".length));
  await api("/auth/register", { method: "POST", json, redirectOn401: false });
  await api("/auth/login", { method: "POST", json: { email, password }, redirectOn401: false });
  window.location.assign(next);
});

const forgot = document.getElementById("forgot-form");
handle(forgot, async () => {
  const email = forgot.email.value.trim();
  if (!email) throw new Error("Enter your email.");
  const answer = await api("/auth/forgot-password", { method: "POST", json: { email }, redirectOn401: false });
  show(done, answer.message + ". Open the link it carries to choose a new password.");
  forgot.querySelector("button[type=submit]").disabled = false;
});

// Posts a token from a mail; when the link's token is spent or expired, its field shows again for another.
async function postToken(form, path, json) {
  try {
    return await api(path, { method: "POST", json, redirectOn401: false });
  } catch (err) {
    form.token.closest(".field").hidden = false;
    throw err;
  }
}

const reset = document.getElementById("reset-form");
handle(reset, async () => {
  const token = reset.token.value.trim();
  const password = reset.new_password.value;
  if (!token) throw new Error("Enter the token from the mail.");
  if (password.length < 8) throw new Error("The password needs at least 8 characters.");
  const answer = await postToken(reset, "/auth/reset-password", { token, new_password: password });
  show(done, answer.message + ".");
  reset.querySelector("button[type=submit]").hidden = true;
});

// A token that came in the address is in the form now: out of the address bar and the history with it.
if (new URLSearchParams(window.location.search).has("token")) {
  window.history.replaceState(null, "", window.location.pathname);
}

const verify = document.getElementById("verify-form");
handle(verify, async () => {
  const token = verify.token.value.trim();
  if (!token) throw new Error("Enter the token from the mail.");
  await postToken(verify, "/auth/verify-email", { token });
  show(done, "The address this mail was sent to is confirmed. Thank you.");
  verify.querySelector("button[type=submit]").hidden = true;
});

const resend = document.getElementById("resend-form");
handle(resend, async () => {
  const email = resend.email.value.trim();
  if (!email) throw new Error("Enter your email to get a new link.");
  const answer = await api("/auth/resend-verification", { method: "POST", json: { email }, redirectOn401: false });
  show(document.getElementById("resend-done"), answer.message + ".");
  resend.querySelector("button[type=submit]").disabled = false;
});

const invitation = document.getElementById("invitation-form");
handle(invitation, async () => {
  const org = await api(`/invitations/${encodeURIComponent(invitation.dataset.token)}/accept`, { method: "POST" });
  await api(`/orgs/${encodeURIComponent(org.id)}/switch`, { method: "POST" });
  window.location.assign("/chat");
});
