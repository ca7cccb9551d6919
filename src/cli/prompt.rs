//! Reading one hidden line from the terminal, telling an empty answer from the end of input.
//!
//! dialoguer and console read a password line and trim it, so Ctrl-D (or a terminal that went
//! away) comes back as the empty string, indistinguishable from pressing Enter; sealing that as
//! an empty value would quietly weaken the secret. This module switches echo off on standard input
//! (a terminal), reads up to the newline itself and reports a line that ends without one as the
//! end of input. It must not keep the answer anywhere but the returned buffer.
//!
//! A paste of several lines (a PEM key) arrives at once: its first line ends the answer, and the
//! rest would otherwise be read as the next keys' answers, or by the shell once the run ends (a
//! secret run as a command, kept in its history). Input arriving within 200 ms of the line is
//! discarded from the terminal, and the answer is reported as [`Answer::Pasted`]; input waiting
//! when a prompt opens is discarded too. A paste whose pieces reach the terminal further apart
//! than that is not recognised as one (bracketed paste mode would tell; it is not used).

use std::io::{self, Write};

use rustix::termios::{self, LocalModes, OptionalActions, Termios};
use zeroize::Zeroizing;

/// What the user answered.
pub(super) enum Answer {
    /// A line (without its line ending).
    Line(Zeroizing<Vec<u8>>),
    /// End of input before a newline: Ctrl-D, or the terminal closed.
    Eof,
    /// More input followed the line at once (a paste over several lines): all of it was
    /// discarded, and the line wiped.
    Pasted,
}

/// How long after the end of the line more input counts as part of the same paste. A terminal
/// hands a paste over in one write (or a few, back to back); nobody types the next line this fast.
const PASTE_WINDOW: rustix::event::Timespec = rustix::event::Timespec {
    tv_sec: 0,
    tv_nsec: 200_000_000,
};

/// Restores the terminal mode when dropped, on every path out of [`read_hidden`].
struct EchoOff {
    saved: Termios,
}

impl EchoOff {
    /// Also discards what waits in the terminal's input before the prompt: typed ahead with
    /// echo on, or the late tail of an earlier paste, it is no answer to this prompt.
    fn new() -> io::Result<EchoOff> {
        let stdin = io::stdin();
        termios::tcflush(&stdin, termios::QueueSelector::IFlush)?;
        let saved = termios::tcgetattr(&stdin)?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        termios::tcsetattr(&stdin, OptionalActions::Now, &quiet)?;
        Ok(EchoOff { saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(io::stdin(), OptionalActions::Now, &self.saved);
    }
}

/// Prints `prompt` on stderr and reads one line from stdin (a terminal) with echo off.
pub(super) fn read_hidden(prompt: &str) -> io::Result<Answer> {
    let guard = EchoOff::new()?;
    let mut err = io::stderr().lock();
    err.write_all(prompt.as_bytes())?;
    err.flush()?;
    let read = read_line();
    let pasted = read.is_ok() && discard_pending()?;
    drop(guard);
    // Echo was off, so the user's Enter did not move the cursor.
    let _ = err.write_all(b"\n");
    let mut line = read?;
    if pasted {
        return Ok(Answer::Pasted);
    }
    if line.last() != Some(&b'\n') {
        return Ok(Answer::Eof);
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Answer::Line(line))
}

/// Whether more input is waiting on standard input right after a line; if so, it is discarded
/// (`tcflush`), again until nothing more arrives within [`PASTE_WINDOW`], so none of it reaches
/// the next prompt or the shell.
fn discard_pending() -> io::Result<bool> {
    use rustix::event::{PollFd, PollFlags, poll};
    let stdin = io::stdin();
    let mut pending = false;
    loop {
        let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
        if poll(&mut fds, Some(&PASTE_WINDOW))? == 0 {
            return Ok(pending);
        }
        termios::tcflush(&stdin, termios::QueueSelector::IFlush)?;
        pending = true;
    }
}

/// Reads standard input up to and including a newline (or its end), a byte at a time from the
/// file descriptor itself: std's `Stdin` would fill its process-wide buffer, which is never
/// wiped, and keep what follows the line there. The line is grown by hand, each outgrown buffer
/// wiped.
fn read_line() -> io::Result<Zeroizing<Vec<u8>>> {
    let mut line = Zeroizing::new(Vec::with_capacity(256));
    let mut byte = Zeroizing::new([0u8; 1]);
    loop {
        match rustix::io::read(io::stdin(), &mut byte[..]) {
            Ok(0) => return Ok(line),
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        if line.len() == line.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(2 * line.capacity()));
            bigger.extend_from_slice(&line);
            line = bigger;
        }
        line.push(byte[0]);
        if byte[0] == b'\n' {
            return Ok(line);
        }
    }
}
