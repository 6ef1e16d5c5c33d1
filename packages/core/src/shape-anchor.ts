// Hidden classes outlive the bursts that use them. V8 reaches a class instance's hidden class (its
// map, with the fields the constructor adds) only through the class's transition tree, which holds
// it weakly: when no instance is alive at a full (mark-compact) GC, the map is collected, and every
// optimized function that embedded it is thrown away ("weak objects" in --trace-deopt). The next
// instance gets a new map and the code is compiled again. A consumer between bursts holds no
// messages, so a mark-compact then discarded its whole per-message path: in the remoting bench, 30–38
// functions recompiled in one measured phase (docs/bench-profiles.md §28, remoting). One instance
// of each per-message class, kept here for the life of the process, keeps its map.

const anchors: object[] = [];

/** Keeps `instance` (made with the class's own constructor, holding no user data) alive for good. */
export function anchorShape<T extends object>(instance: T): T {
  anchors.push(instance);
  return instance;
}
