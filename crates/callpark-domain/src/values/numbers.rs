//! Numbers: slots, lot sizes, event sequences.

use std::fmt;

use super::InvalidValue;

/// The most slots one parking lot may have.
pub const MAX_SLOTS: u16 = 999;

/// A slot of a parking lot, 1..=999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotNumber(u16);

impl SlotNumber {
    /// # Errors
    /// [`InvalidValue`] outside 1..=999.
    pub fn new(n: u32) -> Result<Self, InvalidValue> {
        match u16::try_from(n) {
            Ok(n) if (1..=MAX_SLOTS).contains(&n) => Ok(Self(n)),
            _ => Err(InvalidValue::new(
                "slot number",
                "must be between 1 and 999",
            )),
        }
    }

    /// The slot number, 1..=999.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for SlotNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How many slots an organisation's lot has, 1..=999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LotSize(u16);

impl LotSize {
    /// # Errors
    /// [`InvalidValue`] outside 1..=999.
    pub fn new(n: u32) -> Result<Self, InvalidValue> {
        match u16::try_from(n) {
            Ok(n) if (1..=MAX_SLOTS).contains(&n) => Ok(Self(n)),
            _ => Err(InvalidValue::new("lot size", "must be between 1 and 999")),
        }
    }

    /// The number of slots.
    pub fn get(self) -> u16 {
        self.0
    }

    /// Whether the slot is one of this lot's.
    pub fn contains(self, slot: SlotNumber) -> bool {
        slot.0 <= self.0
    }

    /// Every slot of the lot, in order.
    pub fn slots(self) -> impl Iterator<Item = SlotNumber> {
        (1..=self.0).map(SlotNumber)
    }
}

/// A per-organisation event sequence number; strictly increasing, starting at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Sequence(u64);

impl Sequence {
    /// Before the first event.
    pub const ZERO: Self = Self(0);

    /// The sequence number `n`.
    pub fn new(n: u64) -> Self {
        Self(n)
    }

    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }

    #[must_use]
    /// The sequence number after this one.
    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl fmt::Display for Sequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How many records a page of history holds, 1..=[`Self::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageLimit(u16);

impl PageLimit {
    /// The most records one page holds.
    pub const MAX: Self = Self(500);
    /// The page size when none is asked for.
    pub const DEFAULT: Self = Self(50);

    /// # Errors
    /// [`InvalidValue`] outside 1..=500.
    pub fn new(n: u32) -> Result<Self, InvalidValue> {
        match u16::try_from(n) {
            Ok(n) if (1..=Self::MAX.0).contains(&n) => Ok(Self(n)),
            _ => Err(InvalidValue::new("page limit", "must be between 1 and 500")),
        }
    }

    /// The number of records, 1..=500.
    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}
