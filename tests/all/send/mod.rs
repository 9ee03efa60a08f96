//! `flspost send`: the outbox and SMTP transports, and their deadlines.
mod delivery;
mod smtp_deadline;
