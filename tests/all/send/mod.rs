//! `flspost send`: the outbox and SMTP transports, their deadlines, and a failing transport held.
mod delivery;
mod hold;
mod smtp_deadline;
