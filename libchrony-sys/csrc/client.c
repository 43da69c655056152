/* stub */ typedef int stub_client;
