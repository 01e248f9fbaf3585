BEGIN TRANSACTION;
CREATE TABLE calls (
    ringostat_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    client_number TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    delivered_hash TEXT,
    state TEXT NOT NULL,
    record TEXT NOT NULL,
    source TEXT,
    line INTEGER,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
INSERT INTO "calls" VALUES('rel-1','2026-03-02T08:00:00+00:00','+380671110001','cac56568c202a11c0c9da918f02afa698985ba4c75001a18231a484989802d67','cac56568c202a11c0c9da918f02afa698985ba4c75001a18231a484989802d67','delivered','{"ringostat_id": "rel-1", "started_at": "2026-03-02T08:00:00+00:00", "call_type": "in", "direction": "inbound", "disposition": "ANSWERED", "outcome": "answered", "talk_seconds": 60, "total_seconds": 70, "client_number": "+380671110001", "our_number": "+380443334455", "employee": [null, null, "anna_sip"], "recording_url": null, "call_card_url": "https://app.example.com/call-card/rel-1", "utm": {}, "google_client_id": null, "extra": {"connected_with": "anna_sip"}, "source": "/exports/day.csv", "line": 2}','/exports/day.csv',2,NULL,1,'2026-12-07T02:36:17.444308Z');
INSERT INTO "calls" VALUES('rel-2','2026-03-02T08:05:00+00:00','+380671110002','90fed6004a0c4f939215f41cb02409c4d3fd4d0c732aaeb457d86a33b9302f98','90fed6004a0c4f939215f41cb02409c4d3fd4d0c732aaeb457d86a33b9302f98','delivered','{"ringostat_id": "rel-2", "started_at": "2026-03-02T08:05:00+00:00", "call_type": "in", "direction": "inbound", "disposition": "NO ANSWER", "outcome": "missed", "talk_seconds": 0, "total_seconds": 10, "client_number": "+380671110002", "our_number": "+380443334455", "employee": null, "recording_url": null, "call_card_url": "https://app.example.com/call-card/rel-2", "utm": {}, "google_client_id": null, "extra": {}, "source": "/exports/day.csv", "line": 3}','/exports/day.csv',3,NULL,1,'2026-12-07T02:36:17.440988Z');
INSERT INTO "calls" VALUES('rel-3','2026-03-02T09:00:00+00:00','+380671110001','e6c4927781c3ec78c750085dea1beefa50dc7089f741d3f60bf779b0e3cf39b2','e6c4927781c3ec78c750085dea1beefa50dc7089f741d3f60bf779b0e3cf39b2','delivered','{"ringostat_id": "rel-3", "started_at": "2026-03-02T09:00:00+00:00", "call_type": "in", "direction": "inbound", "disposition": "ANSWERED", "outcome": "answered", "talk_seconds": 60, "total_seconds": 70, "client_number": "+380671110001", "our_number": "+380443334455", "employee": [null, null, "petro_sip"], "recording_url": null, "call_card_url": "https://app.example.com/call-card/rel-3", "utm": {}, "google_client_id": null, "extra": {"connected_with": "petro_sip"}, "source": "/exports/day.csv", "line": 4}','/exports/day.csv',4,NULL,1,'2026-12-07T02:36:17.448640Z');
INSERT INTO "calls" VALUES('rel-4','2026-03-02T10:00:00+00:00','+380671110003','0e3212837ab1db6b092fd1313477d741b6ec47c0ef18644d12facb25ca12db31','0e3212837ab1db6b092fd1313477d741b6ec47c0ef18644d12facb25ca12db31','delivered','{"ringostat_id": "rel-4", "started_at": "2026-03-02T10:00:00+00:00", "call_type": "out", "direction": "outbound", "disposition": "ANSWERED", "outcome": "answered", "talk_seconds": 60, "total_seconds": 70, "client_number": "+380671110003", "our_number": "anna_sip", "employee": ["Agent", null, "anna_sip"], "recording_url": null, "call_card_url": "https://app.example.com/call-card/rel-4", "utm": {}, "google_client_id": null, "extra": {}, "source": "/exports/day.csv", "line": 5}','/exports/day.csv',5,NULL,1,'2026-12-07T02:36:17.435199Z');
CREATE TABLE contact_index (
    contact_id TEXT PRIMARY KEY,
    phone TEXT,
    mobile TEXT,
    modified_time TEXT NOT NULL DEFAULT '',
    created_time TEXT NOT NULL DEFAULT '',
    web_url TEXT,
    name TEXT
);
INSERT INTO "contact_index" VALUES('1892001000001067','+380671110002',NULL,'2026-12-07T02:36:17.405Z','2026-12-07T02:36:17.405Z','https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#Contacts/dv/95a4ac8c9e217c8eec17dd5b7cc532222f25395b55923c4b','+380 67 111 0002');
INSERT INTO "contact_index" VALUES('1892001000001068','+380671110003',NULL,'2026-12-07T02:36:17.417Z','2026-12-07T02:36:17.417Z','https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#Contacts/dv/377473274d6aa4eb02a8a9b41dba0217eb10f553d87b1f83','+380 67 111 0003');
INSERT INTO "contact_index" VALUES('1892001000001069','+380671110001',NULL,'2026-12-07T02:36:17.418Z','2026-12-07T02:36:17.418Z','https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#Contacts/dv/f437de4ebd8dc16e344d7e7fd01eb7c18e7e541738520aab','+380 67 111 0001');
CREATE TABLE contacts (
    number TEXT PRIMARY KEY,
    contact_id TEXT,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO "contacts" VALUES('+380671110002','1892001000001067','done','2026-12-07T02:36:17.413768Z');
INSERT INTO "contacts" VALUES('+380671110003','1892001000001068','done','2026-12-07T02:36:17.425362Z');
INSERT INTO "contacts" VALUES('+380671110001','1892001000001069','done','2026-12-07T02:36:17.428985Z');
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    ringostat_id TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    op TEXT,
    zoho_id TEXT,
    detail TEXT
);
INSERT INTO "events" VALUES(1,'rel-1','2026-12-07T02:36:17.348671Z','read',NULL,NULL,'pending: /exports/day.csv:2');
INSERT INTO "events" VALUES(2,'rel-2','2026-12-07T02:36:17.348901Z','read',NULL,NULL,'pending: /exports/day.csv:3');
INSERT INTO "events" VALUES(3,'rel-3','2026-12-07T02:36:17.349012Z','read',NULL,NULL,'pending: /exports/day.csv:4');
INSERT INTO "events" VALUES(4,'rel-4','2026-12-07T02:36:17.349108Z','read',NULL,NULL,'pending: /exports/day.csv:5');
INSERT INTO "events" VALUES(5,'rel-2','2026-12-07T02:36:17.403226Z','intended','contact',NULL,NULL);
INSERT INTO "events" VALUES(6,'rel-1','2026-12-07T02:36:17.406969Z','intended','contact',NULL,NULL);
INSERT INTO "events" VALUES(7,'rel-4','2026-12-07T02:36:17.408263Z','intended','contact',NULL,NULL);
INSERT INTO "events" VALUES(8,'rel-2','2026-12-07T02:36:17.414411Z','done','contact','1892001000001067',NULL);
INSERT INTO "events" VALUES(9,'rel-2','2026-12-07T02:36:17.414995Z','intended','ticket',NULL,NULL);
INSERT INTO "events" VALUES(10,'rel-2','2026-12-07T02:36:17.426371Z','done','ticket','1892001000001070',NULL);
INSERT INTO "events" VALUES(11,'rel-2','2026-12-07T02:36:17.426882Z','intended','call',NULL,NULL);
INSERT INTO "events" VALUES(12,'rel-4','2026-12-07T02:36:17.428571Z','done','contact','1892001000001068',NULL);
INSERT INTO "events" VALUES(13,'rel-4','2026-12-07T02:36:17.429488Z','intended','call',NULL,NULL);
INSERT INTO "events" VALUES(14,'rel-1','2026-12-07T02:36:17.430083Z','done','contact','1892001000001069',NULL);
INSERT INTO "events" VALUES(15,'rel-1','2026-12-07T02:36:17.431838Z','intended','ticket',NULL,NULL);
INSERT INTO "events" VALUES(16,'rel-2','2026-12-07T02:36:17.432336Z','done','call','1892001000001071',NULL);
INSERT INTO "events" VALUES(17,'rel-2','2026-12-07T02:36:17.432836Z','intended','task',NULL,NULL);
INSERT INTO "events" VALUES(18,'rel-4','2026-12-07T02:36:17.434700Z','done','call','1892001000001072',NULL);
INSERT INTO "events" VALUES(19,'rel-4','2026-12-07T02:36:17.435371Z','state',NULL,NULL,'delivered');
INSERT INTO "events" VALUES(20,'rel-1','2026-12-07T02:36:17.438761Z','done','ticket','1892001000001073',NULL);
INSERT INTO "events" VALUES(21,'rel-1','2026-12-07T02:36:17.439851Z','intended','call',NULL,NULL);
INSERT INTO "events" VALUES(22,'rel-2','2026-12-07T02:36:17.440405Z','done','task','1892001000001074',NULL);
INSERT INTO "events" VALUES(23,'rel-2','2026-12-07T02:36:17.441055Z','state',NULL,NULL,'delivered');
INSERT INTO "events" VALUES(24,'rel-1','2026-12-07T02:36:17.443626Z','done','call','1892001000001075',NULL);
INSERT INTO "events" VALUES(25,'rel-1','2026-12-07T02:36:17.444368Z','state',NULL,NULL,'delivered');
INSERT INTO "events" VALUES(26,'rel-3','2026-12-07T02:36:17.445487Z','intended','call',NULL,NULL);
INSERT INTO "events" VALUES(27,'rel-3','2026-12-07T02:36:17.448023Z','done','call','1892001000001076',NULL);
INSERT INTO "events" VALUES(28,'rel-3','2026-12-07T02:36:17.448708Z','state',NULL,NULL,'delivered');
CREATE TABLE files (
    path TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    read_at TEXT NOT NULL
);
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO "meta" VALUES('contacts.index.mode','index');
INSERT INTO "meta" VALUES('contacts.index.first_from','0');
INSERT INTO "meta" VALUES('contacts.index.watermark','2026-12-07T02:26:17.000Z');
INSERT INTO "meta" VALUES('contacts.index.built_at','2026-12-07T02:36:17.000Z');
INSERT INTO "meta" VALUES('contacts.index.refreshed_at','2026-12-07T02:36:17.000Z');
INSERT INTO "meta" VALUES('recovered_at','2026-12-07T02:36:17.392359Z since 2026-03-01T08:00:00.000000Z');
INSERT INTO "meta" VALUES('last_sync','{"at": "2026-12-07T02:36:17.449799+00:00", "read": 4, "new": 4, "delivered": 4, "failed": 0, "quarantined": 0, "pending": 0, "exit_code": 0}');
CREATE TABLE open_tickets (
    contact_id TEXT NOT NULL,
    department_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    last_activity TEXT NOT NULL,
    filled TEXT,
    PRIMARY KEY (contact_id, department_id)
);
CREATE TABLE ops (
    key TEXT PRIMARY KEY,
    ringostat_id TEXT NOT NULL,
    op TEXT NOT NULL,
    state TEXT NOT NULL,
    zoho_id TEXT,
    updated_at TEXT NOT NULL,
    owner_id TEXT,
    web_url TEXT
);
INSERT INTO "ops" VALUES('rel-2:contact','rel-2','contact','done','1892001000001067','2026-12-07T02:36:17.414283Z',NULL,'https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#Contacts/dv/95a4ac8c9e217c8eec17dd5b7cc532222f25395b55923c4b');
INSERT INTO "ops" VALUES('rel-1:contact','rel-1','contact','done','1892001000001069','2026-12-07T02:36:17.430013Z',NULL,'https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#Contacts/dv/f437de4ebd8dc16e344d7e7fd01eb7c18e7e541738520aab');
INSERT INTO "ops" VALUES('rel-4:contact','rel-4','contact','done','1892001000001068','2026-12-07T02:36:17.428488Z',NULL,'https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#Contacts/dv/377473274d6aa4eb02a8a9b41dba0217eb10f553d87b1f83');
INSERT INTO "ops" VALUES('rel-2:ticket','rel-2','ticket','done','1892001000001070','2026-12-07T02:36:17.426285Z','1892001000001003','https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#Cases/dv/fbaddd6b2d898c54ebbab75baea37c24bbd5c6ee20e48527');
INSERT INTO "ops" VALUES('rel-2:call','rel-2','call','done','1892001000001071','2026-12-07T02:36:17.432279Z','1892001000001003','https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#Calls/dv/afc4078d45332e1c7973e907065fa8ea08cf86f92ab2f71e');
INSERT INTO "ops" VALUES('rel-4:call','rel-4','call','done','1892001000001072','2026-12-07T02:36:17.434634Z','1892001000001004','https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#Calls/dv/00de606cec25f8e7e3c0b73b21b3afeee056a77c5834b6b2');
INSERT INTO "ops" VALUES('rel-1:ticket','rel-1','ticket','done','1892001000001073','2026-12-07T02:36:17.438658Z','1892001000001004','https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#Cases/dv/a0f22c56d58f2f66585e96bfdde30589086c382ec4a7bbad');
INSERT INTO "ops" VALUES('rel-2:task','rel-2','task','done','1892001000001074','2026-12-07T02:36:17.440325Z','1892001000001003','https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#Tasks/dv/4c3f3af0784e0d3ae94044007d2ad92282d1a1527a08451d');
INSERT INTO "ops" VALUES('rel-1:call','rel-1','call','done','1892001000001075','2026-12-07T02:36:17.443483Z','1892001000001004','https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#Calls/dv/3e7489ac45f80a0c6a2848cae85f2146ddd3d1ef846b928f');
INSERT INTO "ops" VALUES('rel-3:call','rel-3','call','done','1892001000001076','2026-12-07T02:36:17.447923Z','1892001000001005','https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#Calls/dv/db46e34e591d7949ed8a564ce972635c0796fbf3b9065c7d');
CREATE TABLE quarantine (
    key TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    line INTEGER NOT NULL,
    ringostat_id TEXT,
    reason TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    field TEXT
);
CREATE INDEX calls_state ON calls (state, started_at);
CREATE INDEX ops_call ON ops (ringostat_id);
CREATE INDEX contact_index_phone ON contact_index (phone);
CREATE INDEX contact_index_mobile ON contact_index (mobile);
CREATE INDEX events_call ON events (ringostat_id, id);
CREATE INDEX calls_started ON calls (started_at);
CREATE INDEX calls_number ON calls (client_number, started_at);
COMMIT;
