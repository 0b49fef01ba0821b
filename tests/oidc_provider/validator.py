"""The provider's claims: groups and `amr` for Rapport's role and second-factor rules,
and the quirks a test switches on to make it misbehave in exactly one way."""

import json
import time

from jwcrypto import jwk, jwt
from oauth2_provider.oauth2_validators import OAuth2Validator

from tests.oidc_provider import control

# People in this provider group signed in with a second factor (amr holds "mfa").
MFA_GROUP = "mfa"


class Validator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "groups": "profile",
        "amr": "openid",
    }

    def get_additional_claims(self, request):
        user = request.user
        groups = sorted(user.groups.values_list("name", flat=True))
        return {
            "preferred_username": user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "name": user.get_full_name(),
            "email": user.email,
            "email_verified": True,
            "groups": [g for g in groups if g != MFA_GROUP],
            "amr": ["pwd", "mfa"] if MFA_GROUP in groups else ["pwd"],
        }

    def finalize_id_token(self, id_token, token, token_handler, request):
        quirk = control.current_quirk()
        if not quirk:
            return super().finalize_id_token(id_token, token, token_handler, request)
        # DOT's own finalize_id_token, with the one claim or key the quirk changes.
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:
            id_token["nonce"] = request.nonce
        key = request.client.jwk_key
        header = {"typ": "JWT", "alg": "RS256", "kid": key.thumbprint()}
        if quirk == "wrong_audience":
            id_token["aud"] = "another-application"
        elif quirk == "unknown_issuer":
            id_token["iss"] = "https://issuer.invalid/o"
        elif quirk == "expired":
            id_token["iat"] = int(time.time()) - 7200
            id_token["exp"] = int(time.time()) - 3600
        elif quirk == "wrong_nonce":
            id_token["nonce"] = "a-nonce-of-another-sign-in"
        elif quirk == "bad_signature":
            # Same key id, another key: what a forger without the provider's key can do.
            key = jwk.JWK.generate(kty="RSA", size=2048)
        token_jwt = jwt.JWT(header=json.dumps(header), claims=json.dumps(id_token, default=str))
        token_jwt.make_signed_token(key)
        id_token_row = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = id_token_row
        request.id_token = id_token_row
        return token_jwt.serialize()
