"""The files schema: the tree's root, its directories and files.

Ids are paths relative to the root, ``/``-separated (``src/app.py``); the root directory is
``.``. ``FilesRoot`` (id ``root``) lists every directory and every file of the tree (two
collections without ``via``: complete listings of the whole types), so a sync removes what
disappeared from disk. ``FilesDirectory.files``/``directories`` are answered from the
children's ``directory``/``parent`` refs.
"""

from __future__ import annotations

from maxtrio.core import EntityDef, Field, Schema

ROOT_ID = "root"
ROOT_DIRECTORY_ID = "."

FilesFile = EntityDef.create(
    "FilesFile",
    {
        "path": Field.string(),
        "name": Field.string(),
        "extension": Field.string(),
        "directory": Field.ref("FilesDirectory"),
        "size": Field.number(),
        "modified": Field.date(),
        "mimeType": Field.string(),
        "isText": Field.boolean(),
        "sha256": Field.string(),
        "lineCount": Field.number(),
        "preview": Field.string(),
    },
)

FilesDirectory = EntityDef.create(
    "FilesDirectory",
    {
        "path": Field.string(),
        "name": Field.string(),
        "parent": Field.ref("FilesDirectory"),
        "depth": Field.number(),
        "files": Field.collection(FilesFile, via="directory"),
        "directories": Field.collection("FilesDirectory", via="parent"),
    },
)

FilesRoot = EntityDef.create(
    "FilesRoot",
    {
        "path": Field.string(),
        "name": Field.string(),
        "directories": Field.collection(FilesDirectory),
        "files": Field.collection(FilesFile),
    },
)

FilesSchema = Schema.create("files", [FilesRoot, FilesDirectory, FilesFile], roots=[FilesRoot])

ROOT_REF = FilesRoot.ref(ROOT_ID)
