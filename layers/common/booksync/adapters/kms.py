"""Provider tokens at rest: KMS ciphertext bound to (company, provider) by the encryption context."""

from __future__ import annotations

import base64
import json
from typing import Any

from booksync.providers.base import TokenSet


class KmsTokenCipher:
    def __init__(self, client: Any, key_id: str) -> None:
        self._kms = client
        self._key_id = key_id

    @staticmethod
    def context(company_id: str, provider: str) -> dict[str, str]:
        return {"company_id": company_id, "provider": provider, "purpose": "provider-oauth-tokens"}

    def encrypt(self, company_id: str, provider: str, tokens: TokenSet) -> str:
        plaintext = json.dumps(tokens.to_json(), separators=(",", ":")).encode()
        resp = self._kms.encrypt(
            KeyId=self._key_id, Plaintext=plaintext, EncryptionContext=self.context(company_id, provider)
        )
        return base64.b64encode(resp["CiphertextBlob"]).decode()

    def decrypt(self, company_id: str, provider: str, ciphertext: str) -> TokenSet:
        resp = self._kms.decrypt(
            CiphertextBlob=base64.b64decode(ciphertext), EncryptionContext=self.context(company_id, provider)
        )
        return TokenSet.from_json(json.loads(resp["Plaintext"]))
