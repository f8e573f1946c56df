"""The real apps' table definitions (the columns our parsers and examiners' tools read),
used to write synthetic device databases that look like the real thing."""

from __future__ import annotations

ANDROID_MMSSMS = (
    "CREATE TABLE android_metadata (locale TEXT)",
    "CREATE TABLE sms (_id INTEGER PRIMARY KEY,thread_id INTEGER,address TEXT,person INTEGER,"
    "date INTEGER,date_sent INTEGER DEFAULT 0,protocol INTEGER,read INTEGER DEFAULT 0,"
    "status INTEGER DEFAULT -1,type INTEGER,reply_path_present INTEGER,subject TEXT,body TEXT,"
    "service_center TEXT,locked INTEGER DEFAULT 0,error_code INTEGER DEFAULT 0,"
    "seen INTEGER DEFAULT 0)",
    "CREATE TABLE threads (_id INTEGER PRIMARY KEY AUTOINCREMENT,date INTEGER DEFAULT 0,"
    "message_count INTEGER DEFAULT 0,recipient_ids TEXT,snippet TEXT,snippet_cs INTEGER DEFAULT 0,"
    "read INTEGER DEFAULT 1,type INTEGER DEFAULT 0,error INTEGER DEFAULT 0,"
    "has_attachment INTEGER DEFAULT 0)",
    "CREATE TABLE canonical_addresses (_id INTEGER PRIMARY KEY AUTOINCREMENT,address TEXT)",
)

ANDROID_CONTACTS2 = (
    "CREATE TABLE android_metadata (locale TEXT)",
    "CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT,account_id INTEGER,"
    "contact_id INTEGER,deleted INTEGER NOT NULL DEFAULT 0,display_name TEXT,"
    "display_name_alt TEXT,starred INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE mimetypes (_id INTEGER PRIMARY KEY AUTOINCREMENT,mimetype TEXT NOT NULL)",
    "CREATE TABLE data (_id INTEGER PRIMARY KEY AUTOINCREMENT,package_id INTEGER,"
    "mimetype_id INTEGER REFERENCES mimetype(_id) NOT NULL,raw_contact_id INTEGER NOT NULL,"
    "is_primary INTEGER NOT NULL DEFAULT 0,data1 TEXT,data2 TEXT,data3 TEXT,data4 TEXT)",
    "CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT,number TEXT,date INTEGER,"
    "duration INTEGER,type INTEGER,new INTEGER,name TEXT,numbertype INTEGER,numberlabel TEXT,"
    "countryiso TEXT,voicemail_uri TEXT,is_read INTEGER,geocoded_location TEXT,"
    "normalized_number TEXT,photo_id INTEGER NOT NULL DEFAULT 0,formatted_number TEXT)",
)

WHATSAPP_MSGSTORE = (
    "CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT,user TEXT NOT NULL,"
    "server TEXT NOT NULL,agent INTEGER,device INTEGER,type INTEGER,raw_string TEXT)",
    "CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT,jid_row_id INTEGER UNIQUE,"
    "hidden INTEGER,subject TEXT,created_timestamp INTEGER,display_message_row_id INTEGER,"
    "last_message_row_id INTEGER,archived INTEGER,sort_timestamp INTEGER)",
    "CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT,chat_row_id INTEGER NOT NULL,"
    "from_me INTEGER NOT NULL,key_id TEXT NOT NULL,sender_jid_row_id INTEGER,status INTEGER,"
    "broadcast INTEGER,recipient_count INTEGER,participant_hash TEXT,origination_flags INTEGER,"
    "origin INTEGER,timestamp INTEGER,received_timestamp INTEGER,receipt_server_timestamp "
    "INTEGER,message_type INTEGER,text_data TEXT,starred INTEGER,lookup_tables INTEGER,"
    "sort_id INTEGER NOT NULL DEFAULT 0)",
)

IOS_SMS = (
    "CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, "
    "country TEXT, service TEXT NOT NULL, uncanonicalized_id TEXT, person_centric_id TEXT)",
    "CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, "
    "style INTEGER, state INTEGER, account_id TEXT, chat_identifier TEXT, service_name TEXT)",
    "CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, "
    "text TEXT, replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, "
    "subject TEXT, country TEXT, attributedBody BLOB, version INTEGER DEFAULT 0, "
    "type INTEGER DEFAULT 0, service TEXT, account TEXT, date INTEGER, date_read INTEGER, "
    "date_delivered INTEGER, is_from_me INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0)",
    "CREATE TABLE chat_message_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE, "
    "message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, message_date INTEGER "
    "DEFAULT 0, PRIMARY KEY (chat_id, message_id))",
    "CREATE TABLE chat_handle_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE, "
    "handle_id INTEGER REFERENCES handle (ROWID) ON DELETE CASCADE, UNIQUE(chat_id, handle_id))",
)

IOS_ADDRESSBOOK = (
    "CREATE TABLE ABPerson (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, First TEXT, Last TEXT, "
    "Middle TEXT, Organization TEXT, Note TEXT, Birthday TEXT, CreationDate INTEGER, "
    "ModificationDate INTEGER)",
    "CREATE TABLE ABMultiValue (UID INTEGER PRIMARY KEY, record_id INTEGER, property INTEGER, "
    "identifier INTEGER, label INTEGER, value TEXT)",
)

WHATSAPP_CHATSTORAGE = (
    "CREATE TABLE ZWACHATSESSION ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, "
    "ZARCHIVED INTEGER, ZMESSAGECOUNTER INTEGER, ZLASTMESSAGEDATE TIMESTAMP, "
    "ZCONTACTJID VARCHAR, ZPARTNERNAME VARCHAR )",
    "CREATE TABLE ZWAMESSAGE ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, "
    "ZISFROMME INTEGER, ZMESSAGESTATUS INTEGER, ZMESSAGETYPE INTEGER, ZCHATSESSION INTEGER, "
    "ZMESSAGEDATE TIMESTAMP, ZSENTDATE TIMESTAMP, ZFROMJID VARCHAR, ZSTANZAID VARCHAR, "
    "ZTEXT VARCHAR, ZTOJID VARCHAR )",
)
