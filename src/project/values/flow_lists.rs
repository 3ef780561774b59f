//! Per place, the ids of the flows that read (or wrote) it, in the order they were noted: the
//! worklist's dependents. About 130,000 places hold some 850,000 ids on the benchmark corpus;
//! as one vector per place they took 8.4 MB at the link's peak of memory (24 bytes of header
//! each, and each vector's doubling). Here a place's first id is kept beside it and the rest in
//! chunks of seven taken from one pool, in fixed-size segments that never move (no list grows
//! by copying). A flow applied again reads mostly what it read before: [`FlowLists::note_once`]
//! looks for it first.

/// No chunk, and an unused place in a chunk (flow ids never reach it).
const NONE: u32 = u32::MAX;

/// Ids per chunk; the chunk's last word is the index of the next chunk.
const IDS: usize = 7;

/// Words per chunk.
const CHUNK: usize = IDS + 1;

/// Words per segment of the pool (32 KiB), a whole number of chunks.
const SEGMENT: usize = 1024 * CHUNK;

/// How many chunks from its start [`FlowLists::note_once`] looks through: a place read by many
/// flows would otherwise be scanned whole at each note, and a repeat only queues a flow that is
/// queued already.
const SCANNED_CHUNKS: usize = 2;

/// What a place holds: its first id, its first chunk, and the word of the pool where its next
/// id goes ([`NONE`] until it has a chunk).
#[derive(Debug, Clone, Copy)]
struct Ends {
    first: u32,
    head: u32,
    tail: u32,
}

const EMPTY: Ends = Ends {
    first: NONE,
    head: NONE,
    tail: NONE,
};

#[derive(Debug, Default)]
pub(super) struct FlowLists {
    ends: Vec<Ends>,
    segments: Vec<Box<[u32; SEGMENT]>>,
    /// How many chunks are in use.
    chunks: u32,
}

impl FlowLists {
    /// How many places have a list (some possibly empty).
    pub(super) fn places(&self) -> usize {
        self.ends.len()
    }

    /// Notes `id` at the end of the list of `place`, unless it is the last id there.
    pub(super) fn note(&mut self, place: usize, id: u32) {
        if place >= self.ends.len() {
            self.ends.resize(place + 1, EMPTY);
        }
        let ends = self.ends[place];
        if ends.first == NONE {
            self.ends[place].first = id;
            return;
        }
        if ends.tail == NONE {
            if ends.first == id {
                return;
            }
            let chunk = self.new_chunk(id);
            let ends = &mut self.ends[place];
            ends.head = chunk;
            ends.tail = chunk * CHUNK as u32 + 1;
            return;
        }
        // The tail is never a chunk's first word: a chunk is made with its first id.
        if *self.word(ends.tail - 1) == id {
            return;
        }
        if (ends.tail as usize) % CHUNK < IDS {
            *self.word(ends.tail) = id;
            self.ends[place].tail += 1;
            return;
        }
        // The chunk is full: the word at the tail is its link to the next.
        let chunk = self.new_chunk(id);
        *self.word(ends.tail) = chunk;
        self.ends[place].tail = chunk * CHUNK as u32 + 1;
    }

    /// Notes `id` at the end of the list of `place` unless the list holds it: looked for among
    /// its first id, its first [`SCANNED_CHUNKS`] chunks and its last chunk, which is the whole
    /// of a list of up to 22 ids.
    pub(super) fn note_once(&mut self, place: usize, id: u32) {
        // Most often a repeat of the last id, which `note` leaves out without a scan.
        if !self.is_last(place, id) && !self.holds(place, id) {
            self.note(place, id);
        }
    }

    fn is_last(&self, place: usize, id: u32) -> bool {
        match self.ends.get(place) {
            None => false,
            Some(ends) if ends.tail == NONE => ends.first == id,
            Some(ends) => {
                let at = (ends.tail - 1) as usize;
                self.segments[at / SEGMENT][at % SEGMENT] == id
            }
        }
    }

    /// Whether `id` is the first id of `place`, in one of its first [`SCANNED_CHUNKS`] chunks or
    /// in its last.
    fn holds(&self, place: usize, id: u32) -> bool {
        let Some(ends) = self.ends.get(place) else {
            return false;
        };
        if ends.first == id {
            return true;
        }
        let mut chunk = ends.head;
        for _ in 0..SCANNED_CHUNKS {
            if chunk == NONE {
                return false;
            }
            let words = self.chunk(chunk);
            if words[..IDS].contains(&id) {
                return true;
            }
            chunk = words[IDS];
        }
        // Past the chunks scanned: the last chunk, where the tail is (never a chunk's first word).
        chunk != NONE && self.chunk((ends.tail - 1) / CHUNK as u32)[..IDS].contains(&id)
    }

    fn new_chunk(&mut self, id: u32) -> u32 {
        let chunk = self.chunks;
        if (chunk as usize * CHUNK) / SEGMENT == self.segments.len() {
            self.segments.push(Box::new([NONE; SEGMENT]));
        }
        self.chunks += 1;
        *self.word(chunk * CHUNK as u32) = id;
        chunk
    }

    fn word(&mut self, at: u32) -> &mut u32 {
        let at = at as usize;
        &mut self.segments[at / SEGMENT][at % SEGMENT]
    }

    /// The words of `chunk`: its ids (then [`NONE`]) and the next chunk.
    fn chunk(&self, chunk: u32) -> &[u32] {
        let at = chunk as usize * CHUNK;
        let start = at % SEGMENT;
        &self.segments[at / SEGMENT][start..start + CHUNK]
    }

    /// Calls `f` with each id of `place`, in the order they were noted.
    pub(super) fn for_each(&self, place: usize, mut f: impl FnMut(u32)) {
        let Some(ends) = self.ends.get(place) else {
            return;
        };
        if ends.first == NONE {
            return;
        }
        f(ends.first);
        let mut chunk = ends.head;
        while chunk != NONE {
            let words = self.chunk(chunk);
            for &id in &words[..IDS] {
                if id == NONE {
                    return;
                }
                f(id);
            }
            chunk = words[IDS];
        }
    }

    /// The ids of `place`, in the order they were noted (none for a place without a list).
    pub(super) fn get(&self, place: usize) -> std::vec::IntoIter<u32> {
        let mut ids = Vec::new();
        self.for_each(place, |id| ids.push(id));
        ids.into_iter()
    }

    /// Empties every list.
    #[cfg(test)]
    fn clear(&mut self) {
        *self = FlowLists::default();
    }
}

#[cfg(test)]
mod tests {
    use super::FlowLists;

    #[test]
    fn noted_once_a_list_keeps_each_id_where_it_was_first_noted() {
        let mut lists = FlowLists::default();
        let mut expected: Vec<Vec<u32>> = vec![Vec::new(); 40];
        // Short lists (up to 15 ids of 1,000 notes each) are looked through whole.
        for step in 0..40_000u32 {
            let place = (step.wrapping_mul(2_654_435_761) >> 7) as usize % 40;
            let id = step.wrapping_mul(7_919) % 15;
            lists.note_once(place, id);
            if !expected[place].contains(&id) {
                expected[place].push(id);
            }
        }
        for (place, ids) in expected.iter().enumerate() {
            assert_eq!(&lists.get(place).collect::<Vec<_>>(), ids, "place {place}");
        }
        // A long list: an id among its first chunks or in its last is not noted again, one
        // between them may be.
        let mut long = FlowLists::default();
        for id in 0..200 {
            long.note_once(0, id);
        }
        for id in [0, 3, 14, 197, 199] {
            long.note_once(0, id);
        }
        assert_eq!(
            long.get(0).collect::<Vec<_>>(),
            (0..200).collect::<Vec<_>>()
        );
        long.note_once(0, 100);
        assert_eq!(long.get(0).count(), 201);
    }

    #[test]
    fn lists_keep_the_order_noted_and_drop_only_a_repeat_of_the_last() {
        let mut lists = FlowLists::default();
        let mut expected: Vec<Vec<u32>> = vec![Vec::new(); 50];
        // Places noted in an interleaved order, some ids repeated at once, some later.
        for step in 0..5_000u32 {
            let place = (step.wrapping_mul(2_654_435_761) >> 7) as usize % 50;
            let id = step % 97;
            for _ in 0..(1 + step % 3) {
                lists.note(place, id);
                if expected[place].last() != Some(&id) {
                    expected[place].push(id);
                }
            }
        }
        assert_eq!(lists.places(), 50);
        for (place, ids) in expected.iter().enumerate() {
            assert_eq!(&lists.get(place).collect::<Vec<_>>(), ids, "place {place}");
        }
        assert_eq!(lists.get(50).count(), 0);
        lists.clear();
        lists.note(3, 9);
        assert_eq!(lists.places(), 4);
        assert_eq!(lists.get(0).count(), 0);
        assert_eq!(lists.get(3).collect::<Vec<_>>(), vec![9]);
    }
}
