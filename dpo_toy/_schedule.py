"""Can the data pin the Bradley–Terry MLE? Graph checks on who scored against whom.

The maximum-likelihood strengths exist (are finite) exactly when, for every split of the players
into two groups, someone in each group scored against someone in the other (Ford 1957; Hunter
2004): the directed graph "i scored a point or half a point against j" is strongly connected.
"""

import numpy as np

PRIOR_NOTE = "the maximum-likelihood strengths run to infinity, so the L2 prior alone sets them"


def _reach(start, src, dst, n):
    """Players reachable from ``start`` along edges src→dst (vectorised breadth-first search)."""
    seen = np.zeros(n, dtype=bool)
    seen[start] = True
    while True:
        step = seen[src] & ~seen[dst]
        if not step.any():
            return seen
        seen[dst[step]] = True


def _components(src, dst, n):
    """Labels of the weakly connected components (label propagation with pointer jumping)."""
    labels = np.arange(n)
    while True:
        old = labels.copy()
        np.minimum.at(labels, src, labels[dst])
        np.minimum.at(labels, dst, labels[src])
        labels = labels[labels]
        if np.array_equal(labels, old):
            return labels


def _strong_components(src, dst, n):
    """Strongly connected components by Kosaraju's algorithm (only run when the quick test fails)."""
    out = [[] for _ in range(n)]
    inn = [[] for _ in range(n)]
    for u, v in zip(src.tolist(), dst.tolist()):
        out[u].append(v)
        inn[v].append(u)
    order, seen = [], [False] * n
    for root in range(n):
        if seen[root]:
            continue
        seen[root] = True
        stack = [(root, iter(out[root]))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if not seen[child]:
                    seen[child] = True
                    stack.append((child, iter(out[child])))
                    break
            else:
                order.append(node)
                stack.pop()
    label = [-1] * n
    for root in reversed(order):
        if label[root] >= 0:
            continue
        label[root], stack = root, [root]
        while stack:
            for parent in inn[stack.pop()]:
                if label[parent] < 0:
                    label[parent] = root
                    stack.append(parent)
    return np.array(label)


def _group(members, label, limit=6):
    names = [label(k) for k in members[:limit]]
    more = f" and {len(members) - limit} more" if len(members) > limit else ""
    return "{" + ", ".join(names) + more + "}"


def check_counts(c, names=None):
    """Messages (possibly none) about what the counted games ``c`` cannot pin down."""
    n = c.n_players
    label = (lambda k: names[k]) if names is not None else (lambda k: f"player {k}")
    games, score = c.player_games, c.player_score
    messages = []
    idle = np.flatnonzero(games == 0)
    if idle.size:
        messages.append(f"{_group(idle, label)} played no games: only the L2 prior places them (at 0)")
    for kind, mask in (
        ("won every game", (games > 0) & (score == games)),
        ("lost every game", (games > 0) & (score == 0)),
    ):
        for k in np.flatnonzero(mask):
            messages.append(f"{label(k)} {kind} ({games[k]:g} played): {PRIOR_NOTE}")

    active = games > 0
    # Edges "u scored against v", in both directions of every pair.
    src = np.r_[c.i[c.score > 0], c.j[c.score < c.games]]
    dst = np.r_[c.j[c.score > 0], c.i[c.score < c.games]]
    start = int(np.argmax(active))
    if (_reach(start, src, dst, n) == active).all() and (_reach(start, dst, src, n) == active).all():
        return messages  # strongly connected: the MLE exists (the common case, found fast)

    components = _components(c.i, c.j, n)
    roots = np.unique(components[active])
    if roots.size > 1:
        groups = [np.flatnonzero(active & (components == r)) for r in roots]
        listed = " and ".join(_group(g, label) for g in groups[:4])
        messages.append(
            f"the players fall into {roots.size} groups that never played each other: {listed}; "
            "strengths are comparable within a group only (the prior lines the groups up at mean 0)"
        )
    strong = _strong_components(src, dst, n)
    scored_in = np.zeros(n, dtype=bool)  # someone outside the group scored against it
    scored_out = np.zeros(n, dtype=bool)
    cross = strong[src] != strong[dst]
    scored_in[strong[dst[cross]]] = True
    scored_out[strong[src[cross]]] = True
    for root in np.unique(strong[active]):
        members = np.flatnonzero(strong == root)
        if members.size < 2:
            continue  # single players are reported above as undefeated/winless
        if not scored_in[root] and scored_out[root]:
            messages.append(
                f"group {_group(members, label)} took every point against all other opponents: {PRIOR_NOTE}"
            )
        if scored_in[root] and not scored_out[root]:
            messages.append(f"group {_group(members, label)} lost every game against all other opponents: {PRIOR_NOTE}")
    return messages
