"""Mirrors trytond's sessions to Herald as they are created and removed
(only the key's SHA-256), so the clients' Session credentials work there."""
import datetime as dt
import hashlib
import logging

import trytond.config as config
from trytond.pool import PoolMeta
from trytond.transaction import Transaction

from .client import Settings
from .sender import HeraldDataManager

logger = logging.getLogger(__name__)


def key_sha256(key):
    return hashlib.sha256(key.encode()).hexdigest()


def utc(timestamp):
    "trytond's naive timestamps are UTC (trytond sets TZ=UTC)."
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=dt.timezone.utc)
    return timestamp.isoformat()


def mirrored(session, settings):
    "A session as Herald's PUT /{db}/tryton/sessions takes it."
    return {
        'user': session.create_uid.id,
        'key_sha256': key_sha256(session.key),
        'created_at': utc(session.create_date),
        'max_age': config.getint('session', 'max_age'),
        'ip': session.ip_address or None,
        'channels': list(settings.session_channels),
        }


class Session(metaclass=PoolMeta):
    __name__ = 'ir.session'

    @classmethod
    def on_modification(cls, mode, sessions, field_names=None):
        super().on_modification(mode, sessions, field_names=field_names)
        if mode not in {'create', 'delete'}:
            return
        try:
            cls._herald_mirror(mode, sessions)
        except Exception:
            # A login or logout never fails for Herald's sake; push-sessions
            # repairs the mirror.
            logger.exception('herald: session %s not mirrored', mode)

    @classmethod
    def _herald_mirror(cls, mode, sessions):
        settings = Settings.from_config()
        if settings is None or not settings.mirror_sessions:
            return
        transaction = Transaction()
        datamanager = transaction.join(
            HeraldDataManager(transaction.database.name))
        for session in sessions:
            if session.create_uid is None:
                continue  # no user to poll as
            if mode == 'create':
                datamanager.mirror_session(mirrored(session, settings))
            else:
                datamanager.remove_session({
                        'user': session.create_uid.id,
                        'key_sha256': key_sha256(session.key),
                        })
