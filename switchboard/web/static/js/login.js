// The sign-in form: POST /auth/login sets the session cookie, then on to the page the person wanted.
import { api, readable, show } from "./api.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");
const otpField = document.getElementById("otp-field");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const email = form.email.value.trim();
  const password = form.password.value;
  if (!email || !password) {
    show(error, "Enter your email and your password.");
    (email ? form.password : form.email).focus();
    return;
  }
  const credentials = { email, password };
  if (!otpField.hidden && form.otp.value.trim()) credentials.otp = form.otp.value.trim();
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  show(error, "");
  try {
    await api("/auth/login", { method: "POST", json: credentials, redirectOn401: false });
    window.location.assign(form.dataset.next || "/chat");
  } catch (err) {
    if (err.code === "otp_required" || err.code === "invalid_otp") {
      otpField.hidden = false;
      form.otp.focus();
    }
    show(error, readable(err));
    submit.disabled = false;
  }
});
