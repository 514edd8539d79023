"""Herald's HTTP API as the module calls it: JSON over urllib with the
tenant's admin token, bounded attempts, errors raised as HeraldError."""
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import trytond.config as config

logger = logging.getLogger(__name__)

# Herald's limits (README "Limits"): messages a batch publishes, bytes a
# request body holds, sessions a mirror request carries.
MAX_BATCH_MESSAGES = 100
MAX_REQUEST_BYTES = 64 * 1024
MAX_SESSIONS_PER_REQUEST = 200
# Answers worth another attempt: Herald (or its gateway) busy or failing.
RETRY_STATUSES = {429, 500, 502, 503, 504}


class HeraldError(Exception):
    "Herald refused a request or could not be reached."


@dataclass(frozen=True)
class Settings:
    url: str
    # Never in a repr: error reports that capture locals must not carry it.
    token: str = field(repr=False)
    timeout: float = 5
    retries: int = 3
    session_channels: tuple = ('chat:*',)
    mirror_sessions: bool = True

    @classmethod
    def from_config(cls):
        """The [herald] section of trytond.conf, or None when it names no url
        or cannot be read (logged: a typo there must not break logins)."""
        try:
            return cls._read_config()
        except ValueError as e:
            logger.error('herald: [herald] is wrong, nothing is sent: %s', e)
            return None

    @classmethod
    def _read_config(cls):
        url = config.get('herald', 'url')
        if not url:
            return None
        channels = config.get('herald', 'session_channels', default='chat:*')
        return cls(
            url=url.rstrip('/'),
            token=config.get('herald', 'token', default=''),
            timeout=config.getfloat('herald', 'timeout', default=5),
            retries=max(0, config.getint('herald', 'retries', default=3)),
            session_channels=tuple(
                c.strip() for c in channels.split(',') if c.strip()),
            mirror_sessions=config.getboolean(
                'herald', 'mirror_sessions', default=True),
            )


def tenant_path(database, *parts):
    "The path of a tenant's route: the tenant is the database name."
    return '/'.join(
        ['', urllib.parse.quote(database, safe='')] + list(parts))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    "A redirect is an error: the token goes to [herald] url and nowhere else."

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def call(settings, method, path, body, attempts=None):
    """Sends body as JSON and returns the decoded answer.

    Tries again (with a growing pause) when Herald cannot be reached or
    answers one of RETRY_STATUSES, settings.retries times at most; any other
    refusal is raised at once (sending it again would not change it)."""
    data = json.dumps(body, separators=(',', ':')).encode()
    if attempts is None:
        attempts = settings.retries + 1
    last = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(min(0.1 * 2 ** (attempt - 1), 2))
        request = urllib.request.Request(
            settings.url + path, data=data, method=method, headers={
                'Content-Type': 'application/json',
                'Authorization': f'Bearer {settings.token}',
                })
        try:
            with _opener.open(request, timeout=settings.timeout) as response:
                return json.loads(response.read() or b'null')
        except urllib.error.HTTPError as e:
            reason = _error_text(e)
            last = HeraldError(f'{method} {path}: {e.code} {reason}')
            if e.code not in RETRY_STATUSES:
                raise last from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            last = HeraldError(f'{method} {path}: {e}')
        logger.warning(
            'herald: attempt %d of %d failed: %s', attempt + 1, attempts, last)
    raise last


def _error_text(error):
    try:
        answer = json.loads(error.read())
        return f"{answer.get('error', '')}: {answer.get('message', '')}"
    except Exception:
        return error.reason
