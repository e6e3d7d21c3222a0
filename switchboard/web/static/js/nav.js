// The top bar: sign out.
import { api, readable } from "./api.js";

const button = document.getElementById("sign-out");
if (button) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api("/auth/logout", { method: "POST", redirectOn401: false });
    } catch (err) {
      // an ended session is signed out already; anything else is worth saying
      if (err.status !== 401) {
        button.disabled = false;
        window.alert("Signing out failed: " + readable(err));
        return;
      }
    }
    window.location.assign("/login");
  });
}
