// django-otp-webauthn announces a new passkey with an event; reload so the account security
// page lists it (the library's own script only shows a status message).
document.addEventListener("otp_webauthn.register_complete", () => {
  window.location.reload();
});
