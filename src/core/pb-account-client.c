/* pb-account-client.c: a POP3 client configured from an account.
 *
 * Apart from pb-account.c so that the account model links without the POP3
 * client (tests of the model, tools that only read accounts.conf). */
#include "pb-account.h"

PbPop3Client *
pb_account_create_client (PbAccount *self)
{
  PbPop3Client *client;

  g_return_val_if_fail (PB_IS_ACCOUNT (self), NULL);
  g_return_val_if_fail (pb_account_get_host (self) != NULL, NULL);

  client = pb_pop3_client_new (pb_account_get_host (self), pb_account_get_port (self),
                               pb_account_get_security (self));
  pb_pop3_client_set_timeout (client, pb_account_get_timeout (self));
  pb_pop3_client_set_ca_file (client, pb_account_get_ca_file (self));
  pb_pop3_client_set_pin_sha256 (client, pb_account_get_pin_sha256 (self));
  return client;
}
