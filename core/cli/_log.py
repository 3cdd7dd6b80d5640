"""``equipoise db`` and ``equipoise log``: the store's migrations, and the audit log's verification, checkpoints,
MAC key and export."""

from __future__ import annotations

import sys

from .._errors import InputFileError

EXIT_LOG_BROKEN = 4


def add_commands(sub) -> None:
    d = sub.add_parser("db", help="the store: EQUIPOISE_DATABASE_URL, else EQUIPOISE_DATA_DIR/equipoise.sqlite3")
    dsub = d.add_subparsers(dest="db_command", required=True)
    dsub.add_parser("upgrade", help="apply the database migrations (the app and the CLI also do on start)").set_defaults(
        func=cmd_db_upgrade)

    g = sub.add_parser("log", help="the audit log: verify its hash chain, export it")
    gsub = g.add_subparsers(dest="log_command", required=True)
    lv = gsub.add_parser("verify", help='recompute the chain and check its anchors (MACs, checkpoints): "N entries, '
                         'chain intact", or the first fault')
    lv.add_argument("--checkpoints", metavar="PATH",
                    help="the checkpoint file to check against (must exist; default: the configured one, if it exists)")
    lv.add_argument("--expect-at-least", type=int, metavar="N", help="fail unless the log holds at least N entries")
    lv.set_defaults(func=cmd_log_verify)
    gsub.add_parser("checkpoint", help="verify the log, then append a signed checkpoint of its head now (for a "
                    "scheduled job)").set_defaults(func=cmd_log_checkpoint)
    gsub.add_parser("rotate-key", help="put a new MAC key first in the key file (older keys stay, to verify what "
                    "they signed) and checkpoint under it").set_defaults(func=cmd_log_rotate_key)
    e = gsub.add_parser("export", help="every entry (seq, prev_hash, hash, body) as JSON Lines; the export is logged")
    e.add_argument("--format", choices=["jsonl"], default="jsonl")
    e.add_argument("--reports", action="store_true", help="include the full report JSON stored with each entry")
    e.add_argument("--out", help="write to this new file instead of standard output (an existing one is refused; "
                   "never written through a link)")
    e.add_argument("--force", action="store_true", help="replace an existing --out file (a link is replaced, not followed)")
    e.add_argument("--user", help="who exports (default: the operating-system user)")
    e.set_defaults(func=cmd_log_export)


def cmd_db_upgrade(args) -> int:
    from .. import service

    store = service.upgrade_store()
    print(f"{store.display_url}: at revision {store.revision()} (head).")
    return 0


def cmd_log_verify(args) -> int:
    from .. import service

    if args.expect_at_least is not None and args.expect_at_least < 0:
        raise InputFileError(f"--expect-at-least must be a whole number of entries, 0 or more. Got "
                             f"{args.expect_at_least} instead.")
    result = service.open_log().verify(checkpoints=args.checkpoints, expect_at_least=args.expect_at_least)
    if result.ok:
        print(result.message)
        return 0
    print(f"error: {result.message}", file=sys.stderr)
    return EXIT_LOG_BROKEN


def cmd_log_checkpoint(args) -> int:
    from .. import service

    item = service.open_log().checkpoint()
    if item is None:
        print("The log holds no entries: nothing to checkpoint.")
    else:
        print(f"Checkpoint of entry {item['seq']} (head hash {item['head_hash']}) written with key {item['key_id']}.")
    return 0


def cmd_log_rotate_key(args) -> int:
    from .. import service

    log = service.open_log()
    ring = service.rotate_log_key()
    item = log.checkpoint()
    print(f"New MAC key {ring.current_id} is first in {ring.path}; {len(ring.keys) - 1} older key(s) kept to verify "
          f"what they signed. Back the file up and restart every app server so they sign with it."
          + ("" if item is None else f" Checkpoint of entry {item['seq']} written with the new key."))
    return 0


def cmd_log_export(args) -> int:
    from .. import service

    if args.force and not args.out:
        raise InputFileError("--force replaces an existing --out file: use it with --out.")
    target = service.check_out_path(args.out, force=args.force) if args.out else None  # before the export is logged
    log = service.open_log()
    with service.log_context(log, user=args.user, page="cli log export"):
        service.record_export("audit_log", details={"format": args.format, "reports": args.reports})
    if target is None:
        log.export_jsonl(sys.stdout, reports=args.reports)
        return 0
    with service.replacing_out(target, force=args.force) as out:
        n = log.export_jsonl(out, reports=args.reports)
    print(f"{n} entries written to {args.out}", file=sys.stderr)
    return 0
